//! Applying events to the read tables of one schema, exactly once and in order per aggregate.
//! Ordering and gap filling are in `order`, what the batch writes in `plan`, the copy of the
//! tables written in `target`.
//!
//! For each event: a sequence at or below the aggregate's checkpoint is a duplicate and skipped;
//! the next one is applied; one further ahead first has the missing events read from the store.
//! A batch of any size is one transaction of a handful of statements: rows of one kind go in
//! together, and the checkpoints advance in the same transaction as the rows they cover.

use std::collections::BTreeMap;

use bus::EventEnvelope;
use sqlx::{PgConnection, PgPool};

use crate::checkpoints::AggregateKey;
use crate::numbering::{KeptOrdinals, Numbered};
use crate::plan::Plan;
use crate::sink::PoisonSink;
use crate::target::{Advanced, Target};
use crate::ProjectorError;

/// An event to apply. `retried` ones come back from the dead-letter queue and are applied even
/// though the checkpoint has moved past them (every apply is idempotent by itself), unless a
/// later change of the same room member has been applied since (see `superseded`).
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub(crate) envelope: EventEnvelope,
    pub(crate) retried: bool,
}

impl From<EventEnvelope> for Incoming {
    fn from(envelope: EventEnvelope) -> Self {
        Self {
            envelope,
            retried: false,
        }
    }
}

/// How a batch went.
#[derive(Debug, Default, Clone)]
pub(crate) struct Applied {
    pub(crate) events: usize,
    pub(crate) poisoned: usize,
    /// The checkpoints the batch moved, and to where.
    pub(crate) advanced: BTreeMap<AggregateKey, i64>,
    /// The newest ordinals its messages took.
    pub(crate) numbered: Numbered,
}

/// Applies `incoming` to `target` in one transaction.
pub(crate) async fn apply(
    pool: &PgPool,
    target: &Target,
    incoming: &[Incoming],
    sink: &mut impl PoisonSink,
) -> Result<Applied, ProjectorError> {
    let mut transaction = pool.begin().await?;
    target.enter(&mut transaction).await?;
    let applied = apply_in(&mut transaction, incoming, target.ordinals(), sink).await?;
    target
        .committing(&mut transaction, Advanced::These(&applied.advanced))
        .await?;
    transaction.commit().await?;
    target.ordinals().committed(&applied.numbered);
    Ok(applied)
}

/// Applies `incoming` inside the caller's transaction, already pointed at its target; new
/// messages are numbered after the counts the caller keeps in `ordinals`.
/// Poisoned events reach `sink` after the writes and before the commit: none is lost between a
/// commit and its dead-lettering, and a batch the database refuses has dead-lettered nothing
/// yet when its events are tried again one by one (see `poison`).
pub(crate) async fn apply_in(
    connection: &mut PgConnection,
    incoming: &[Incoming],
    ordinals: &KeptOrdinals,
    sink: &mut impl PoisonSink,
) -> Result<Applied, ProjectorError> {
    let mut plan = Plan::make(connection, incoming).await?;
    let poisoned = plan.take_poisoned();
    let events = plan.staged();
    let advanced = plan.checkpoints().clone();
    let numbered = plan.execute(connection, ordinals).await?;
    for poisoned in &poisoned {
        sink.poisoned(poisoned).await?;
    }
    Ok(Applied {
        events,
        poisoned: poisoned.len(),
        advanced,
        numbered,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::{MessagePosted, Role, RoomEvent, RoomKind};
    use testkit::seed::StoredEvent;
    use uuid::Uuid;

    use super::*;
    use crate::sink::LogPoisoned;

    fn incoming(room: Uuid, sequence: i64, event: &RoomEvent, retried: bool) -> Incoming {
        Incoming {
            envelope: StoredEvent::room(room, sequence, event).envelope(sequence),
            retried,
        }
    }

    fn message(user_id: Uuid, content: &str) -> RoomEvent {
        RoomEvent::MessagePosted(MessagePosted {
            message_id: Uuid::new_v4(),
            user_id,
            username: "ada".into(),
            content: content.into(),
            client_msg_id: None,
            posted_at: Utc::now(),
            is_bot: false,
            reply_to: None,
            mentions: Vec::new(),
        })
    }

    fn created(room_id: Uuid, created_by: Uuid) -> RoomEvent {
        RoomEvent::RoomCreated {
            room_id,
            name: "general".into(),
            is_private: false,
            password_hash: None,
            created_by,
            created_at: Utc::now(),
            kind: RoomKind::Room,
        }
    }

    /// Each message of the room as (seq, ordinal, author ordinal), and the room's message count.
    async fn numbers(pool: &PgPool, room: Uuid) -> (Vec<(i64, i64, i64)>, i64) {
        let messages = sqlx::query_as(
            "SELECT seq, ordinal, author_ordinal FROM messages WHERE room_id = $1 ORDER BY seq",
        )
        .bind(room)
        .fetch_all(pool)
        .await
        .unwrap();
        let count = sqlx::query_scalar("SELECT message_count FROM rooms WHERE id = $1")
            .bind(room)
            .fetch_one(pool)
            .await
            .unwrap();
        (messages, count)
    }

    /// A retried dead letter can be a message the tables hold already (the rebuild that put
    /// right what refused it applied it too): it must not take a second number from the
    /// messages beside it in its batch.
    #[tokio::test]
    async fn a_retried_message_already_applied_takes_no_number_from_the_new_ones_beside_it() {
        let (_, pool) = testkit::fresh_database().await;
        let (room, ada) = (Uuid::new_v4(), Uuid::new_v4());
        let created = created(room, ada);
        let joined = RoomEvent::MemberJoined {
            user_id: ada,
            username: "ada".into(),
            role: Role::Owner,
            joined_at: Utc::now(),
        };
        let (first, second) = (message(ada, "first"), message(ada, "second"));
        let history = [
            incoming(room, 1, &created, false),
            incoming(room, 2, &joined, false),
            incoming(room, 3, &first, false),
            incoming(room, 4, &second, false),
        ];
        apply(&pool, &Target::live(), &history, &mut LogPoisoned)
            .await
            .expect("the history applies");

        let batch = [
            incoming(room, 4, &second, true),
            incoming(room, 5, &message(ada, "third"), false),
        ];
        apply(&pool, &Target::live(), &batch, &mut LogPoisoned)
            .await
            .expect("the batch applies");

        assert_eq!(
            numbers(&pool, room).await,
            ([(3, 1, 1), (4, 2, 2), (5, 3, 3)].into(), 3)
        );
    }

    /// Two projectors take turns on the live tables, each numbering from the counts it keeps:
    /// one must not number after what it kept when the other wrote since.
    #[tokio::test]
    async fn a_projector_numbers_after_what_another_projector_wrote_meanwhile() {
        let (_, pool) = testkit::fresh_database().await;
        let (room, ada, bob) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let created = created(room, ada);
        let (here, there) = (Target::live(), Target::live());
        let batches = [
            (
                &here,
                vec![
                    (1, created),
                    (2, message(ada, "one")),
                    (3, message(bob, "two")),
                ],
            ),
            (&there, vec![(4, message(ada, "three"))]),
            (
                &here,
                vec![(5, message(ada, "four")), (6, message(bob, "five"))],
            ),
        ];
        for (target, events) in batches {
            let batch: Vec<Incoming> = events
                .iter()
                .map(|(sequence, event)| incoming(room, *sequence, event, false))
                .collect();
            apply(&pool, target, &batch, &mut LogPoisoned)
                .await
                .expect("the batch applies");
        }

        assert_eq!(
            numbers(&pool, room).await,
            (
                [(2, 1, 1), (3, 2, 1), (4, 3, 2), (5, 4, 3), (6, 5, 2)].into(),
                5
            )
        );
    }
}
