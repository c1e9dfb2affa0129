//! Which message a sender's `client_msg_id` names in a room: the table `sent_messages`, which a
//! trigger writes with each message's event, in its transaction. A retry is found there however
//! many messages were posted meanwhile, by anyone, and across restarts, for a day at least.
//!
//! Every send with an id is looked up before it is queued for its room, so the lookups of
//! concurrent sends share one statement: whatever lookups arrive while one runs go into the
//! next (measured: one statement per post took a fifth of the throughput of 64 clients posting
//! into one room).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cqrs_es::persist::PersistenceError;
use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::CommandError;

/// How long a `client_msg_id` is remembered: a retry comes within seconds or minutes, and a
/// day of sends bounds the table.
pub const CLIENT_MSG_IDS_KEPT: Duration = Duration::from_secs(24 * 60 * 60);

/// Rows deleted per statement, so pruning never holds many locks or a long transaction.
const PRUNE_BATCH: i64 = 10_000;

const SELECT_ONE: &str = "
SELECT seq FROM sent_messages
 WHERE room_id = $1 AND sender_id = $2 AND client_msg_id = $3";

/// Each key is looked up by its own index probe (a correlated subquery, which every plan reads
/// through the primary key), whatever the table's size was when the statement was first planned.
const SELECT_MANY: &str = "
SELECT k.n,
       (SELECT s.seq FROM sent_messages s
         WHERE s.room_id = k.room_id AND s.sender_id = k.sender_id
           AND s.client_msg_id = k.client_msg_id)
  FROM UNNEST($1::text[], $2::text[], $3::text[]) WITH ORDINALITY
       AS k(room_id, sender_id, client_msg_id, n)";

const DELETE_EXPIRED: &str = "
DELETE FROM sent_messages
 WHERE ctid = ANY (ARRAY(SELECT ctid FROM sent_messages
                          WHERE sent_at < now() - make_interval(secs => $1)
                          LIMIT $2))";

/// The lookups of earlier sends, batched.
pub(crate) struct SentLookups {
    pool: PgPool,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Lookup>,
    running: bool,
}

struct Lookup {
    room_id: String,
    sender: String,
    client_msg_id: String,
    reply: oneshot::Sender<Result<Option<usize>, CommandError>>,
}

impl SentLookups {
    pub(crate) fn new(pool: PgPool) -> Arc<Self> {
        Arc::new(Self {
            pool,
            queue: Mutex::default(),
        })
    }

    /// The sequence of the message `sender` already posted to the room with `client_msg_id`.
    pub(crate) async fn earlier_send(
        self: &Arc<Self>,
        room_id: Uuid,
        sender: Uuid,
        client_msg_id: &str,
    ) -> Result<Option<usize>, CommandError> {
        let (reply, answer) = oneshot::channel();
        let lookup = Lookup {
            room_id: room_id.to_string(),
            sender: sender.to_string(),
            client_msg_id: client_msg_id.to_owned(),
            reply,
        };
        let lead = {
            let mut queue = self.queue.lock().expect("lookup queue poisoned");
            if queue.running {
                queue.waiting.push(lookup);
                None
            } else {
                queue.running = true;
                Some(lookup)
            }
        };
        if let Some(own) = lead {
            // Nobody is looking up: look up this one here, sparing a wake-up of another task,
            // and leave what queues meanwhile to a drain of its own, which no cancelled request
            // can stop halfway.
            let _turn = Turn(self);
            self.look_up(vec![own]).await;
        }
        answer.await.unwrap_or_else(|_| {
            Err(CommandError::StoreUnreachable(
                PersistenceError::ConnectionError(
                    "the lookup of earlier sends stopped before answering".into(),
                ),
            ))
        })
    }

    /// Ends a lookup's turn: what queued meanwhile goes to a drain, else nobody is running.
    fn hand_over(self: &Arc<Self>) {
        let more = {
            let mut queue = self.queue.lock().expect("lookup queue poisoned");
            queue.running = !queue.waiting.is_empty();
            queue.running
        };
        if more {
            tokio::spawn(self.clone().drain());
        }
    }

    async fn drain(self: Arc<Self>) {
        loop {
            let lookups = {
                let mut queue = self.queue.lock().expect("lookup queue poisoned");
                if queue.waiting.is_empty() {
                    queue.running = false;
                    return;
                }
                std::mem::take(&mut queue.waiting)
            };
            self.look_up(lookups).await;
        }
    }

    async fn look_up(&self, lookups: Vec<Lookup>) {
        match self.query(&lookups).await {
            Ok(seqs) => {
                for (lookup, seq) in lookups.into_iter().zip(seqs) {
                    let _ = lookup.reply.send(Ok(seq.map(|seq| seq as usize)));
                }
            }
            Err(error) => {
                // Every lookup of the batch fails with the one cause.
                let error = Arc::new(error);
                for lookup in lookups {
                    let cause = SharedCause(error.clone());
                    let _ = lookup.reply.send(Err(CommandError::StoreUnreachable(
                        PersistenceError::ConnectionError(Box::new(cause)),
                    )));
                }
            }
        }
    }

    /// The sequence each lookup finds, in their order. One alone takes the plainer statement,
    /// which costs PostgreSQL less than a batch of one.
    async fn query(&self, lookups: &[Lookup]) -> Result<Vec<Option<i64>>, sqlx::Error> {
        if let [one] = lookups {
            let seq = sqlx::query_scalar(SELECT_ONE)
                .bind(&one.room_id)
                .bind(&one.sender)
                .bind(&one.client_msg_id)
                .fetch_optional(&self.pool)
                .await?;
            return Ok(vec![seq]);
        }
        let rooms: Vec<&str> = lookups.iter().map(|l| l.room_id.as_str()).collect();
        let senders: Vec<&str> = lookups.iter().map(|l| l.sender.as_str()).collect();
        let ids: Vec<&str> = lookups.iter().map(|l| l.client_msg_id.as_str()).collect();
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(SELECT_MANY)
            .bind(&rooms)
            .bind(&senders)
            .bind(&ids)
            .fetch_all(&self.pool)
            .await?;
        let mut seqs = vec![None; lookups.len()];
        for (n, seq) in rows {
            seqs[n as usize - 1] = seq;
        }
        Ok(seqs)
    }
}

/// A request's own lookup: when it ends, finished or cancelled, the queue is handed over.
struct Turn<'a>(&'a Arc<SentLookups>);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.hand_over();
    }
}

/// One database error, the cause of each lookup of the batch it failed.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct SharedCause(Arc<sqlx::Error>);

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
