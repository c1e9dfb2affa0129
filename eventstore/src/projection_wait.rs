//! Read-your-writes: waiting until the projection has applied an aggregate up to a sequence.
//!
//! Each projector commit notifies [`PROJECTION_CHANNEL`] with the aggregates it advanced and
//! their new checkpoints (see [`projection_notices`]). One listener per process reads those
//! notices and wakes exactly the waiters whose aggregate reached their sequence: a busy projector
//! costs a waiter nothing, and a waiter reads the checkpoint table once, when it starts. Only
//! when notices may have been lost (the listener reconnecting, or down) does every waiter look
//! at the table again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::time::Instant;

/// The channel the projector notifies after every commit.
pub const PROJECTION_CHANNEL: &str = "projection";

/// PostgreSQL refuses a notification payload of 8,000 bytes or more; an entry takes at most
/// about 75 (a type, a UUID, a sequence), so a notice of this many entries always fits.
const ENTRIES_PER_NOTICE: usize = 100;

/// How often waiters look at the table themselves while the listener cannot listen.
const POLL_WITHOUT_LISTENER: Duration = Duration::from_secs(1);

/// The payloads announcing that a commit advanced these aggregates (type, id, new checkpoint),
/// each small enough for one `pg_notify`. An empty payload means "anything may have changed".
pub fn projection_notices<'a>(
    advanced: impl IntoIterator<Item = (&'a str, &'a str, i64)>,
) -> Vec<String> {
    let advanced: Vec<_> = advanced.into_iter().collect();
    advanced
        .chunks(ENTRIES_PER_NOTICE)
        .map(|chunk| serde_json::to_string(chunk).expect("strings and numbers encode"))
        .collect()
}

type AggregateKey = (String, String);

/// Waits until the projection has applied an aggregate's events up to a sequence: the write
/// side's read-your-writes, and a read's `min_seq`. Cheap to clone; the listener stops with the
/// last clone.
#[derive(Clone)]
pub struct ProjectionWaiter {
    pool: PgPool,
    waiting: Arc<Waiting>,
    /// Bumped when notices may have been lost: every waiter looks again.
    look_again: watch::Receiver<u64>,
}

/// The aggregates someone waits for, with what the projection is known to have applied.
#[derive(Default)]
struct Waiting {
    aggregates: Mutex<HashMap<AggregateKey, Watched>>,
    lookups: AtomicU64,
}

struct Watched {
    applied: watch::Sender<i64>,
    waiters: usize,
}

impl Waiting {
    fn watch(self: &Arc<Self>, key: AggregateKey) -> Watch {
        let mut aggregates = self.aggregates.lock().expect("not poisoned");
        let watched = aggregates.entry(key.clone()).or_insert_with(|| Watched {
            applied: watch::channel(0).0,
            waiters: 0,
        });
        watched.waiters += 1;
        Watch {
            applied: watched.applied.subscribe(),
            key,
            waiting: self.clone(),
        }
    }

    fn advanced(&self, key: &AggregateKey, sequence: i64) {
        let aggregates = self.aggregates.lock().expect("not poisoned");
        if let Some(watched) = aggregates.get(key) {
            watched.applied.send_if_modified(|applied| {
                let newer = sequence > *applied;
                *applied = (*applied).max(sequence);
                newer
            });
        }
    }
}

/// One waiter's interest in one aggregate, given up when dropped.
struct Watch {
    applied: watch::Receiver<i64>,
    key: AggregateKey,
    waiting: Arc<Waiting>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut aggregates = self.waiting.aggregates.lock().expect("not poisoned");
        if let Some(watched) = aggregates.get_mut(&self.key) {
            watched.waiters -= 1;
            if watched.waiters == 0 {
                aggregates.remove(&self.key);
            }
        }
    }
}

impl ProjectionWaiter {
    /// Starts listening for projector commits.
    pub fn start(pool: PgPool) -> Self {
        let waiting = Arc::new(Waiting::default());
        let (look_again, receiver) = watch::channel(0);
        tokio::spawn(listen(pool.clone(), Arc::downgrade(&waiting), look_again));
        Self {
            pool,
            waiting,
            look_again: receiver,
        }
    }

    /// Answers `true` once the projection has applied `sequence` of the aggregate, `false` when
    /// `timeout` passed first.
    pub async fn wait(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: i64,
        timeout: Duration,
    ) -> Result<bool, sqlx::Error> {
        let deadline = Instant::now() + timeout;
        // Watching before looking: a commit after the look is then noticed.
        let mut interest = self
            .waiting
            .watch((aggregate_type.to_owned(), aggregate_id.to_owned()));
        let mut look_again = self.look_again.clone();
        // Should the listener end (it ends with the last handle), a closed channel must not
        // make this waiter look again in a busy loop: it then waits out its deadline.
        let mut listening = true;
        loop {
            look_again.borrow_and_update();
            if self.applied(aggregate_type, aggregate_id).await? >= sequence {
                return Ok(true);
            }
            let noticed = tokio::select! {
                reached = interest.applied.wait_for(|applied| *applied >= sequence) => reached.is_ok(),
                changed = look_again.changed(), if listening => {
                    listening = changed.is_ok();
                    false
                }
                () = tokio::time::sleep_until(deadline) => return Ok(false),
            };
            if noticed {
                return Ok(true);
            }
        }
    }

    /// How many times waiters have read a checkpoint from the table, since the start.
    pub fn lookups(&self) -> u64 {
        self.waiting.lookups.load(Ordering::Relaxed)
    }

    async fn applied(&self, aggregate_type: &str, aggregate_id: &str) -> Result<i64, sqlx::Error> {
        self.waiting.lookups.fetch_add(1, Ordering::Relaxed);
        let applied: Option<i64> = sqlx::query_scalar(CHECKPOINT)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(applied.unwrap_or(0))
    }
}

const CHECKPOINT: &str = "
SELECT last_seq FROM projection_checkpoints WHERE aggregate_type = $1 AND aggregate_id = $2";

/// Wakes the waiters of every notice until the last waiter handle is gone.
async fn listen(pool: PgPool, waiting: std::sync::Weak<Waiting>, look_again: watch::Sender<u64>) {
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(PROJECTION_CHANNEL).await?;
            // Whatever was committed while not listening was not noticed.
            look_again.send_modify(|count| *count += 1);
            loop {
                tokio::select! {
                    _ = look_again.closed() => return Ok::<_, sqlx::Error>(()),
                    notification = listener.try_recv() => match notification? {
                        Some(notification) => {
                            let Some(waiting) = waiting.upgrade() else { return Ok(()) };
                            wake(&waiting, notification.payload(), &look_again);
                        }
                        // A reconnect: notices may have been lost.
                        None => look_again.send_modify(|count| *count += 1),
                    }
                }
            }
        };
        match listening.await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "projection listener failed; waiters fall back to polling");
                tokio::select! {
                    _ = look_again.closed() => return,
                    _ = tokio::time::sleep(POLL_WITHOUT_LISTENER) => {
                        look_again.send_modify(|count| *count += 1);
                    }
                }
            }
        }
    }
}

fn wake(waiting: &Waiting, payload: &str, look_again: &watch::Sender<u64>) {
    match serde_json::from_str::<Vec<(String, String, i64)>>(payload) {
        Ok(advanced) => {
            for (aggregate_type, aggregate_id, sequence) in advanced {
                waiting.advanced(&(aggregate_type, aggregate_id), sequence);
            }
        }
        // An empty notice (the read tables were swapped) or one from an older projector.
        Err(_) => look_again.send_modify(|count| *count += 1),
    }
}
