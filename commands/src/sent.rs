//! Which message a sender's `client_msg_id` names in a room: the table `sent_messages`, which a
//! trigger writes with each message's event, in its transaction. A retry is found there however
//! many messages were posted meanwhile, by anyone, and across restarts, for a day at least.
//!
//! A post is not looked up here before it is queued: the room answers a retry of its last sends
//! from memory, and the trigger refuses to store a repeat of an older one (migration 0092), which
//! is only then looked up. Most posts are new, and so cost no round trip of their own.

use std::time::Duration;

use domain::values::ClientMsgId;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::unreachable_store;
use crate::CommandError;

/// How long a `client_msg_id` is remembered: a retry comes within seconds or minutes, and a
/// day of sends bounds the table.
pub const CLIENT_MSG_IDS_KEPT: Duration = Duration::from_secs(24 * 60 * 60);

/// Rows deleted per statement, so pruning never holds many locks or a long transaction.
const PRUNE_BATCH: i64 = 10_000;

const SELECT_SENT: &str = "
SELECT seq FROM sent_messages
 WHERE room_id = $1 AND sender_id = $2 AND client_msg_id = $3";

const DELETE_EXPIRED: &str = "
DELETE FROM sent_messages
 WHERE ctid = ANY (ARRAY(SELECT ctid FROM sent_messages
                          WHERE sent_at < now() - make_interval(secs => $1)
                          LIMIT $2))";

/// The sequence of the message `sender` posted to the room with `client_msg_id` within the last
/// [`CLIENT_MSG_IDS_KEPT`].
pub(crate) async fn earlier_send(
    pool: &PgPool,
    room_id: Uuid,
    sender: Uuid,
    client_msg_id: &ClientMsgId,
) -> Result<Option<usize>, CommandError> {
    let seq: Option<i64> = sqlx::query_scalar(SELECT_SENT)
        .bind(room_id.to_string())
        .bind(sender.to_string())
        .bind(client_msg_id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(unreachable_store)?;
    Ok(seq.map(|seq| seq as usize))
}

/// Forgets the `client_msg_id`s older than [`CLIENT_MSG_IDS_KEPT`]; answers how many. Any number
/// of processes may run it at once.
pub async fn forget_expired_client_msg_ids(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut forgotten = 0;
    loop {
        let deleted = sqlx::query(DELETE_EXPIRED)
            .bind(CLIENT_MSG_IDS_KEPT.as_secs_f64())
            .bind(PRUNE_BATCH)
            .execute(pool)
            .await?
            .rows_affected();
        forgotten += deleted;
        if deleted < PRUNE_BATCH as u64 {
            return Ok(forgotten);
        }
    }
}
