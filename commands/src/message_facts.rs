//! What the use cases read of a posted message before asking its room to change it: its facts
//! from the read tables as of the room's projected sequence, brought up to date with the room's
//! events the projection has not applied yet (usually none, at most its lag). The room checks
//! them against its own recent changes (see `domain::room::KnownMessage`).

use cqrs_es::persist::PersistenceError;
use domain::room::{KnownMessage, MessageFacts};
use domain::{Room, RoomEvent};
use eventstore::{EventLog, EventLogError};
use sqlx::PgPool;
use uuid::Uuid;

use crate::CommandError;

/// The room's projected sequence and, when the room has it, the message with its reactions, in
/// one statement, so they are one consistent snapshot of the read tables.
const FACTS: &str = "
SELECT coalesce((SELECT last_seq FROM projection_checkpoints
                  WHERE aggregate_type = 'Room' AND aggregate_id = $1::text), 0) AS as_of,
       m.user_id, m.deleted,
       (SELECT coalesce(json_agg(json_build_array(r.emoji, r.users) ORDER BY r.first), '[]')
          FROM (SELECT emoji, array_agg(user_id ORDER BY seq) AS users, min(seq) AS first
                  FROM message_reactions WHERE message_id = $2 GROUP BY emoji) r) AS reactions
  FROM (SELECT 1) AS one
  LEFT JOIN messages m ON m.id = $2 AND m.room_id = $1";

#[derive(sqlx::FromRow)]
struct Row {
    as_of: i64,
    user_id: Option<Uuid>,
    deleted: Option<bool>,
    reactions: sqlx::types::Json<Vec<(String, Vec<Uuid>)>>,
}

/// The message `message_id` of the room as of the room's latest event.
pub(crate) async fn known_message(
    pool: &PgPool,
    room_id: Uuid,
    message_id: Uuid,
) -> Result<KnownMessage, CommandError> {
    let row: Row = sqlx::query_as(FACTS)
        .bind(room_id)
        .bind(message_id)
        .fetch_one(pool)
        .await
        .map_err(unreachable_store)?;
    let mut facts = row.user_id.map(|author| MessageFacts {
        message_id,
        author,
        deleted: row.deleted.unwrap_or(false),
        reactions: row.reactions.0,
    });
    let mut as_of = row.as_of;
    let log = EventLog::new(pool.clone());
    loop {
        let page = log
            .events_after::<Room>(&room_id.to_string(), as_of)
            .await
            .map_err(log_error)?;
        let finished = page.len() < eventstore::PAGE_SIZE;
        for recorded in page {
            as_of = recorded.sequence;
            follow(&mut facts, message_id, &recorded.event);
        }
        if finished {
            break;
        }
    }
    Ok(KnownMessage {
        message_id,
        facts,
        as_of: as_of as usize,
    })
}

/// `facts` after one more event of the room.
fn follow(facts: &mut Option<MessageFacts>, message_id: Uuid, event: &RoomEvent) {
    if let RoomEvent::MessagePosted(posted) = event {
        if posted.message_id == message_id {
            *facts = Some(MessageFacts {
                message_id,
                author: posted.user_id,
                deleted: false,
                reactions: Vec::new(),
            });
        }
        return;
    }
    if event.changed_message() == Some(message_id) {
        if let Some(facts) = facts {
            facts.apply(event);
        }
    }
}

fn unreachable_store(error: sqlx::Error) -> CommandError {
    CommandError::StoreUnreachable(PersistenceError::ConnectionError(Box::new(error)))
}

fn log_error(error: EventLogError) -> CommandError {
    match error {
        EventLogError::Database(error) => unreachable_store(error),
        undecodable @ EventLogError::Undecodable { .. } => CommandError::StoreFault(
            PersistenceError::DeserializationError(Box::new(undecodable)),
        ),
    }
}
