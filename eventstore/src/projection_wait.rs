use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::time::Instant;

/// The channel the projector notifies after every commit.
pub const PROJECTION_CHANNEL: &str = "projection";

/// How long a waiter sleeps without a notification before looking anyway: the listener loses
/// notifications while it reconnects.
const RECHECK: Duration = Duration::from_millis(250);

/// Waits until the projection has applied an aggregate's events up to a sequence: the write
/// side's read-your-writes, and a read's `min_seq`.
///
/// One listener per process wakes every waiter after each projector commit; each waiter then
/// looks at its own checkpoint.
#[derive(Clone)]
pub struct ProjectionWaiter {
    pool: PgPool,
    commits: watch::Receiver<u64>,
}

impl ProjectionWaiter {
    /// Starts listening for projector commits; the listener stops with the last clone.
    pub fn start(pool: PgPool) -> Self {
        let (sender, commits) = watch::channel(0);
        tokio::spawn(listen(pool.clone(), sender));
        Self { pool, commits }
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
        let mut commits = self.commits.clone();
        loop {
            // Marking the current commit as seen before looking means a commit that lands
            // after the look still wakes this waiter.
            commits.borrow_and_update();
            let applied: Option<i64> = sqlx::query_scalar(CHECKPOINT)
                .bind(aggregate_type)
                .bind(aggregate_id)
                .fetch_optional(&self.pool)
                .await?;
            if applied.is_some_and(|applied| applied >= sequence) {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let nap = (deadline - now).min(RECHECK);
            // Woken, timed out, or the listener is gone: look again either way.
            let _ = tokio::time::timeout(nap, commits.changed()).await;
        }
    }
}

const CHECKPOINT: &str = "
SELECT last_seq FROM projection_checkpoints WHERE aggregate_type = $1 AND aggregate_id = $2";

async fn listen(pool: PgPool, commits: watch::Sender<u64>) {
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(PROJECTION_CHANNEL).await?;
            loop {
                tokio::select! {
                    _ = commits.closed() => return Ok::<_, sqlx::Error>(()),
                    // `Ok(None)` is a reconnect: something may have been missed, so wake all.
                    notification = listener.try_recv() => {
                        notification?;
                        commits.send_modify(|count| *count += 1);
                    }
                }
            }
        };
        match listening.await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "projection listener failed; waiters fall back to polling");
                tokio::select! {
                    _ = commits.closed() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}
