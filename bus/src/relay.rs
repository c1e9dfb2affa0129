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
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::backoff::Backoff;
use eventstore::EventLog;

use crate::{BusError, Publish};

/// Picks the one active relay of a database (advisory locks are per database).
pub const RELAY_LOCK: i64 = 0x6368_6174_5f72_656c;
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
    /// Outbox rows deleted between two vacuums of the outbox by the relay (see [`Sweeper`]).
    pub vacuum_after: usize,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
            max_in_flight: 10_000,
            poll_interval: Duration::from_secs(2),
            standby_interval: Duration::from_secs(1),
            vacuum_after: 10_000,
        }
    }
}

/// Runs the relay until `shutdown` is cancelled.
///
/// Progress is logged as events with their fields (a batch at `debug`, taking and losing the
/// lock at `info`), never recorded into the span: span fields re-recorded on every batch grow
/// every later line and the span's memory for as long as the process runs.
pub async fn run(
    pool: PgPool,
    mut publisher: impl Publish,
    settings: RelaySettings,
    shutdown: CancellationToken,
) {
    async {
        let mut progress = Progress::default();
        loop {
            let Some(lock) = wait_for_turn(&pool, &settings, &shutdown).await else {
                return;
            };
            tracing::info!(published = progress.published, "relay is active");
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
                    tracing::warn!(%error, "relay stepped down; waiting for its turn again");
                }
            }
        }
    }
    .instrument(tracing::info_span!("relay"))
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

/// Relays while `lock`'s connection (and so the lock) lives. `Ok` at shutdown, once the batches
/// already published are confirmed and deleted (or after [`FINISH_WITHIN`]).
///
/// Publishing and confirming overlap: RabbitMQ confirms persistent messages only once they are
/// on disk, which it does in rounds, so waiting for one batch's confirms before publishing the
/// next would make that round the relay's pace and every event's lag. Rows stay in the outbox
/// until confirmed; this relay remembers which it has published meanwhile.
///
/// The lock is fenced: its connection is checked before every batch is published, and a failure
/// of it ends the relay's turn at once (another relay may hold the lock a moment later), dropping
/// the batches in flight, which stay in the outbox.
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
    let mut sweeper = Sweeper::default();
    let mut poll = tokio::time::interval(settings.poll_interval);
    // Whether the outbox may hold rows this relay has not published: set by a notification, the
    // poll, and a confirm that made room while the limit in flight held rows back. Every look is
    // a round trip on the write path's database, so a confirm alone does not look again.
    let mut may_hold_more = true;
    loop {
        if may_hold_more {
            let published = tokio::select! {
                _ = shutdown.cancelled() => break,
                published = in_flight.publish_waiting(&log, &mut lock, publisher, settings) => published,
            };
            match published {
                Ok(Waiting::Published) => may_hold_more = false,
                Ok(Waiting::HeldBack) => {}
                Err(error @ BusError::LockLost(_)) => return Err(error),
                Err(error) => {
                    tracing::warn!(%error, "relaying failed; the events stay in the outbox");
                    in_flight.forget();
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = backoff.wait(Some(&error)) => continue,
                    }
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            confirmed = in_flight.oldest_confirmed(), if !in_flight.is_empty() => {
                let settled = match confirmed {
                    Ok(()) => in_flight.settle_oldest(pool).await,
                    Err(error) => Err(error),
                };
                match settled {
                    Ok(relayed) => {
                        backoff.reset();
                        progress.record(&relayed);
                        sweeper.deleted(relayed.len(), pool, settings).await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a batch was not confirmed; publishing it again");
                        in_flight.forget();
                        may_hold_more = true;
                        backoff.wait(Some(&error)).await;
                    }
                }
            }
            woken = listener.try_recv() => {
                // `Ok(None)`: the listener reconnected and may have missed a notification;
                // looking now covers it.
                may_hold_more = true;
                if let Err(error) = woken {
                    tracing::warn!(%error, "outbox listener failed");
                    tokio::time::sleep(settings.standby_interval).await;
                }
            }
            _ = poll.tick() => may_hold_more = true,
        }
    }
    in_flight.finish(pool, progress).await;
    Ok(())
}

/// How long a relay that is told to stop waits for the confirms of what it already published.
const FINISH_WITHIN: Duration = Duration::from_secs(3);

/// Fails unless this session still holds the relay lock: a session holds its advisory locks
/// while its connection lives, so a live connection is enough.
async fn check_lock(lock: &mut PgConnection) -> Result<(), BusError> {
    sqlx::query(LOCK_ALIVE)
        .execute(lock)
        .await
        .map(drop)
        .map_err(BusError::LockLost)
}

const LOCK_ALIVE: &str = "SELECT 1";

/// Keeps the relay's look at the outbox short. The outbox is a queue, each row deleted soon
/// after it is written, and the look for the oldest rows steps over every deleted one until a
/// vacuum removes it: with autovacuum off (or minutes behind), a look took longer with every
/// event ever relayed. So the relay vacuums the table itself every
/// [`RelaySettings::vacuum_after`] deletions, a few milliseconds on a table that holds little
/// more than what is in flight.
#[derive(Debug, Default)]
struct Sweeper {
    deleted: usize,
}

impl Sweeper {
    async fn deleted(&mut self, count: usize, pool: &PgPool, settings: &RelaySettings) {
        self.deleted += count;
        if self.deleted < settings.vacuum_after {
            return;
        }
        self.deleted = 0;
        // VACUUM runs outside any transaction: the simple query protocol, not a prepared one.
        if let Err(error) = pool.execute(VACUUM_OUTBOX).await {
            tracing::warn!(%error, "vacuuming the outbox failed; the relay's looks slow down until a vacuum runs");
        }
    }
}

const VACUUM_OUTBOX: &str = "VACUUM outbox";

#[derive(Debug, Default)]
struct Progress {
    published: u64,
}

/// Events the relay published, confirmed by the broker and deleted from the outbox.
pub const RELAY_PUBLISHED: &str = "chat_relay_published_total";

/// Registers the bus's metrics' help texts with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_counter!(
        RELAY_PUBLISHED,
        "Events the outbox relay published and the broker confirmed"
    );
}

impl Progress {
    fn record(&mut self, positions: &[i64]) {
        self.published += positions.len() as u64;
        metrics::counter!(RELAY_PUBLISHED).increment(positions.len() as u64);
        tracing::debug!(
            events = positions.len(),
            published = self.published,
            last_position = positions.last(),
            "relayed a batch"
        );
    }
}

/// What a look at the outbox left behind.
enum Waiting {
    /// Everything it held is published (or in flight).
    Published,
    /// The limit in flight held rows back: look again once a confirm makes room.
    HeldBack,
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

    /// Publishes what the outbox holds and is not in flight yet, up to the limit in flight,
    /// checking before each batch it publishes that this relay still holds `lock`.
    async fn publish_waiting(
        &mut self,
        log: &EventLog,
        lock: &mut PgConnection,
        publisher: &mut impl Publish,
        settings: &RelaySettings,
    ) -> Result<Waiting, BusError> {
        while self.positions.len() < settings.max_in_flight {
            let batch = log
                .outbox_batch(&self.positions, settings.batch_size)
                .await?;
            if batch.is_empty() {
                return Ok(Waiting::Published);
            }
            check_lock(lock).await?;
            let confirms = publisher.publish(&batch).await?;
            let positions: Vec<i64> = batch.iter().map(|event| event.position).collect();
            self.positions.extend(&positions);
            self.batches.push_back(Batch {
                positions,
                confirmed: Box::pin(confirms.confirmed()),
            });
            if batch.len() < settings.batch_size {
                return Ok(Waiting::Published);
            }
        }
        Ok(Waiting::HeldBack)
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

    /// At shutdown: settles what was published, so the next relay does not publish it again.
    async fn finish(&mut self, pool: &PgPool, progress: &mut Progress) {
        let settle = async {
            while !self.is_empty() {
                self.oldest_confirmed().await?;
                progress.record(&self.settle_oldest(pool).await?);
            }
            Ok::<_, BusError>(())
        };
        match tokio::time::timeout(FINISH_WITHIN, settle).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "stopping with batches unconfirmed; the next relay publishes them again")
            }
            Err(_) => tracing::warn!(
                "stopping before the broker confirmed the last batches; the next relay publishes them again"
            ),
        }
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
