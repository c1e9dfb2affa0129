//! The outbox relay: moves committed events from the `outbox` table to the bus, in order.
//!
//! Every process that writes events runs one, and a session-level advisory lock makes exactly
//! one of them active; the others wait and take over when it dies (Postgres releases the lock
//! with its connection). The active relay is woken by `NOTIFY outbox` from the insert trigger,
//! polls slowly in case a notification was lost (the listener loses them while it reconnects,
//! so it polls after every reconnect too), publishes in batches with publisher confirms, and
//! deletes rows only after the broker confirmed them. A crash between confirm and delete
//! publishes those events again: consumers dedupe. The lock, not row locks, keeps two relays
//! from publishing the same rows; should two ever be active at once, consumers dedupe too.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::backoff::Backoff;
use eventstore::EventLog;

use crate::{BusError, Publish};

/// Picks the one active relay of a database (advisory locks are per database).
const RELAY_LOCK: i64 = 0x6368_6174_5f72_656c;
/// The channel the outbox trigger notifies.
const OUTBOX_CHANNEL: &str = "outbox";

#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Events per transaction and per confirmed publish; at most a page of the log.
    pub batch_size: usize,
    /// Events published and not yet confirmed, at most. The relay's pace is at most this over
    /// the broker's confirm time, which took 0.1–1.4 s on a busy 2-core machine.
    pub max_in_flight: usize,
    /// How often the active relay looks at the outbox without being woken.
    pub poll_interval: Duration,
    /// How often a waiting relay tries to become the active one.
    pub standby_interval: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
            max_in_flight: 10_000,
            poll_interval: Duration::from_secs(2),
            standby_interval: Duration::from_secs(1),
        }
    }
}

/// Runs the relay until `shutdown` is cancelled.
pub async fn run(
    pool: PgPool,
    mut publisher: impl Publish,
    settings: RelaySettings,
    shutdown: CancellationToken,
) {
    let span = tracing::info_span!(
        "relay",
        active = false,
        published = 0u64,
        last_position = 0i64
    );
    async {
        let mut progress = Progress::default();
        loop {
            let Some(lock) = wait_for_turn(&pool, &settings, &shutdown).await else {
                return;
            };
            tracing::Span::current().record("active", true);
            tracing::info!("relay is active");
            let outcome = lead(
                &pool,
                lock,
                &mut publisher,
                &settings,
                &shutdown,
                &mut progress,
            );
            match outcome.await {
                Ok(()) => return,
                Err(error) => {
                    tracing::Span::current().record("active", false);
                    tracing::warn!(%error, "relay stepped down; waiting for its turn again");
                }
            }
        }
    }
    .instrument(span)
    .await
}

/// Waits until this relay holds the lock; `None` when shut down first.
async fn wait_for_turn(
    pool: &PgPool,
    settings: &RelaySettings,
    shutdown: &CancellationToken,
) -> Option<PgConnection> {
    loop {
        let attempt = async {
            let mut connection = PgConnection::connect_with(&pool.connect_options()).await?;
            let taken: bool = sqlx::query_scalar(TRY_LOCK)
                .bind(RELAY_LOCK)
                .fetch_one(&mut connection)
                .await?;
            Ok::<_, sqlx::Error>(taken.then_some(connection))
        };
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            attempt = attempt => match attempt {
                Ok(Some(connection)) => return Some(connection),
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "relay cannot reach PostgreSQL"),
            },
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(settings.standby_interval) => {}
        }
    }
}

const TRY_LOCK: &str = "SELECT pg_try_advisory_lock($1)";

/// Relays while `lock`'s connection (and so the lock) lives. `Ok` at shutdown.
///
/// Publishing and confirming overlap: RabbitMQ confirms persistent messages only once they are
/// on disk, which it does in rounds, so waiting for one batch's confirms before publishing the
/// next would make that round the relay's pace and every event's lag. Rows stay in the outbox
/// until confirmed; this relay remembers which it has published meanwhile.
async fn lead(
    pool: &PgPool,
    mut lock: PgConnection,
    publisher: &mut impl Publish,
    settings: &RelaySettings,
    shutdown: &CancellationToken,
    progress: &mut Progress,
) -> Result<(), BusError> {
    let log = EventLog::new(pool.clone());
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(OUTBOX_CHANNEL).await?;
    let mut backoff = Backoff::default();
    let mut in_flight = InFlight::default();
    let mut poll = tokio::time::interval(settings.poll_interval);
    // Every wake-up below (a notification, a confirm that made room in flight, the poll) looks
    // at the outbox again.
    loop {
        let published = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            published = in_flight.publish_waiting(&log, publisher, settings) => published,
        };
        if let Err(error) = published {
            tracing::warn!(%error, "relaying failed; the events stay in the outbox");
            in_flight.forget();
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = backoff.wait() => continue,
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            confirmed = in_flight.oldest_confirmed(), if !in_flight.is_empty() => {
                let settled = match confirmed {
                    Ok(()) => in_flight.settle_oldest(pool).await,
                    Err(error) => Err(error),
                };
                match settled {
                    Ok(relayed) => {
                        backoff.reset();
                        progress.record(&relayed);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a batch was not confirmed; publishing it again");
                        in_flight.forget();
                        backoff.wait().await;
                    }
                }
            }
            woken = listener.try_recv() => {
                // `Ok(None)`: the listener reconnected and may have missed a notification;
                // looking now covers it.
                if let Err(error) = woken {
                    tracing::warn!(%error, "outbox listener failed");
                    tokio::time::sleep(settings.standby_interval).await;
                }
            }
            _ = poll.tick() => {
                // Still holding the lock? Its connection must be alive for that.
                sqlx::query("SELECT 1").execute(&mut lock).await?;
            }
        }
    }
}

#[derive(Debug, Default)]
struct Progress {
    published: u64,
}

impl Progress {
    fn record(&mut self, positions: &[i64]) {
        self.published += positions.len() as u64;
        let span = tracing::Span::current();
        span.record("published", self.published);
        if let Some(last) = positions.last() {
            span.record("last_position", last);
        }
        tracing::debug!(events = positions.len(), "relayed a batch");
    }
}

/// Published batches awaiting their confirms, oldest first.
#[derive(Default)]
struct InFlight {
    batches: VecDeque<Batch>,
    /// Every position in `batches`: the next look at the outbox skips them.
    positions: Vec<i64>,
}

struct Batch {
    positions: Vec<i64>,
    confirmed: Pin<Box<dyn Future<Output = Result<(), BusError>> + Send>>,
}

impl InFlight {
    fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Publishes what the outbox holds and is not in flight yet, up to the limit in flight.
    async fn publish_waiting(
        &mut self,
        log: &EventLog,
        publisher: &mut impl Publish,
        settings: &RelaySettings,
    ) -> Result<(), BusError> {
        while self.positions.len() < settings.max_in_flight {
            let batch = log
                .outbox_batch(&self.positions, settings.batch_size)
                .await?;
            if batch.is_empty() {
                break;
            }
            let confirms = publisher.publish(&batch).await?;
            let positions: Vec<i64> = batch.iter().map(|event| event.position).collect();
            self.positions.extend(&positions);
            self.batches.push_back(Batch {
                positions,
                confirmed: Box::pin(confirms.confirmed()),
            });
            if batch.len() < settings.batch_size {
                break;
            }
        }
        Ok(())
    }

    /// Waits for the oldest batch's confirms. Cancelling the wait loses nothing.
    async fn oldest_confirmed(&mut self) -> Result<(), BusError> {
        match self.batches.front_mut() {
            Some(batch) => batch.confirmed.as_mut().await,
            None => std::future::pending().await,
        }
    }

    /// Deletes the confirmed oldest batch from the outbox; answers its positions.
    async fn settle_oldest(&mut self, pool: &PgPool) -> Result<Vec<i64>, BusError> {
        let batch = self.batches.pop_front().expect("a confirmed batch");
        sqlx::query(DELETE_PUBLISHED)
            .bind(&batch.positions)
            .execute(pool)
            .await?;
        let settled: HashSet<i64> = batch.positions.iter().copied().collect();
        self.positions
            .retain(|position| !settled.contains(position));
        Ok(batch.positions)
    }

    /// After a failure: whatever was in flight is published again.
    fn forget(&mut self) {
        self.batches.clear();
        self.positions.clear();
    }
}

/// The delete commits without waiting for the disk: a crash that takes it back only publishes
/// those events again, which consumers skip as duplicates, while a flush of its own would make
/// the commits of new events queue behind it for the WAL (sampled: as many waits on the relay's
/// flushes as on the events' own during sequential posting).
const DELETE_PUBLISHED: &str = "
DELETE FROM outbox
 WHERE position = ANY ($1)
   AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL";
