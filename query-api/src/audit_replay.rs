//! A room's history as an operator reads it (`chat replay`): one readable line per event, from
//! the event store alone, edits, deletions and reactions included.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::{RoomEvent, RoomKind};
use eventstore::{EventLog, EventLogError};
use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{role_name, visit_until};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("room {0} has no events")]
    NoSuchRoom(Uuid),
    #[error(transparent)]
    EventLog(#[from] EventLogError),
}

/// A room's history as readable lines, one per event, from the event store alone.
pub async fn replay_timeline(
    pool: &PgPool,
    room_id: Uuid,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<String>, ReplayError> {
    let log = EventLog::new(pool.clone());
    let mut lines = Vec::new();
    let until = until.unwrap_or_else(Utc::now);
    visit_until(&log, room_id, until, |recorded| {
        let when = recorded
            .recorded_at
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let sequence = recorded.sequence;
        lines.push(format!(
            "{when}  #{sequence:<6} {}",
            describe(&recorded.event)
        ));
    })
    .await?;
    if lines.is_empty() {
        return Err(ReplayError::NoSuchRoom(room_id));
    }
    Ok(lines)
}

fn describe(event: &RoomEvent) -> String {
    match event {
        RoomEvent::RoomCreated {
            name,
            is_private,
            created_by,
            kind,
            ..
        } => {
            let kind = match (kind, is_private) {
                (RoomKind::Direct, _) => "direct",
                (RoomKind::Room, true) => "private",
                (RoomKind::Room, false) => "public",
            };
            format!("room {name:?} created ({kind}) by {created_by}")
        }
        RoomEvent::MemberJoined { username, role, .. } => {
            format!("{username} joined as {}", role_name(*role))
        }
        RoomEvent::MemberLeft { username, .. } => format!("{username} left"),
        RoomEvent::MemberRoleChanged { username, role, .. } => {
            format!("{username} became {}", role_name(*role))
        }
        RoomEvent::MessagePosted(posted) => {
            let id = posted.message_id;
            match posted.reply_to {
                Some(to) => format!(
                    "{}: {} [{id}, replying to {to}]",
                    posted.username, posted.content
                ),
                None => format!("{}: {} [{id}]", posted.username, posted.content),
            }
        }
        RoomEvent::MessageEdited {
            message_id,
            username,
            content,
            ..
        } => format!("{username} edited {message_id}: {content}"),
        RoomEvent::MessageDeleted {
            message_id,
            username,
            ..
        } => format!("{username} deleted {message_id}"),
        RoomEvent::ReactionAdded {
            message_id,
            emoji,
            username,
            ..
        } => format!("{username} reacted {emoji} to {message_id}"),
        RoomEvent::ReactionRemoved {
            message_id,
            emoji,
            username,
            ..
        } => format!("{username} took back {emoji} from {message_id}"),
    }
}
