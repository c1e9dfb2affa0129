//! The outbox relay: moves committed events from the `outbox` table to the bus, in order.
//!
//! Every process that writes events runs one, and a session-level advisory lock makes exactly
//! one of them active; the others wait and take over when it dies (Postgres releases the lock
//! with its connection). The active relay is woken by `NOTIFY outbox` from the insert trigger,
//! polls slowly in case a notification was lost (the listener loses them while it reconnects,
//! so it polls after every reconnect too), publishes in batches with publisher confirms, and
//! deletes rows only after the broker confirmed them. A crash between confirm and delete
//! publishes those events again: consumers dedupe.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::backoff::Backoff;
use crate::{BusError, EventEnvelope, Publish};

/// Picks the one active relay of a database (advisory locks are per database).
const RELAY_LOCK: i64 = 0x6368_6174_5f72_656c;
/// The channel the outbox trigger notifies.
const OUTBOX_CHANNEL: &str = "outbox";

#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Events per transaction and per confirmed publish.
    pub batch_size: i64,
    /// How often the active relay looks at the outbox without being woken.
    pub poll_interval: Duration,
    /// How often a waiting relay tries to become the active one.
    pub standby_interval: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
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
async fn lead(
    pool: &PgPool,
    mut lock: PgConnection,
    publisher: &mut impl Publish,
    settings: &RelaySettings,
    shutdown: &CancellationToken,
    progress: &mut Progress,
) -> Result<(), BusError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(OUTBOX_CHANNEL).await?;
    let mut backoff = Backoff::default();
    loop {
        let drained = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            drained = drain(pool, publisher, settings, progress) => drained,
        };
        match drained {
            Ok(()) => backoff.reset(),
            Err(error) => {
                tracing::warn!(%error, "relaying failed; the events stay in the outbox");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = backoff.wait() => continue,
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            woken = listener.try_recv() => {
                // `Ok(None)`: the listener reconnected and may have missed a notification;
                // draining now covers it. An error is passed to the next drain's judgement.
                if let Err(error) = woken {
                    tracing::warn!(%error, "outbox listener failed");
                    tokio::time::sleep(settings.standby_interval).await;
                }
            }
            _ = tokio::time::sleep(settings.poll_interval) => {
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

/// Relays batches until the outbox is empty.
async fn drain(
    pool: &PgPool,
    publisher: &mut impl Publish,
    settings: &RelaySettings,
    progress: &mut Progress,
) -> Result<(), BusError> {
    loop {
        let mut transaction = pool.begin().await?;
        let batch: Vec<EventEnvelope> = sqlx::query_as(TAKE_BATCH)
            .bind(settings.batch_size)
            .fetch_all(&mut *transaction)
            .await?;
        if batch.is_empty() {
            return Ok(());
        }
        publisher.publish(&batch).await?;
        let positions: Vec<i64> = batch.iter().map(|event| event.position).collect();
        sqlx::query(DELETE_PUBLISHED)
            .bind(&positions)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        progress.published += batch.len() as u64;
        let span = tracing::Span::current();
        span.record("published", progress.published);
        span.record(
            "last_position",
            positions.last().copied().unwrap_or_default(),
        );
        tracing::debug!(events = batch.len(), "relayed a batch");
        if (batch.len() as i64) < settings.batch_size {
            return Ok(());
        }
    }
}

/// The oldest waiting events. Rows another relay has locked are skipped, not waited for.
const TAKE_BATCH: &str = "
SELECT e.position, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type,
       e.event_version, e.payload, e.metadata, e.recorded_at
  FROM outbox o
  JOIN events e ON e.position = o.position
 ORDER BY o.position
 LIMIT $1
   FOR UPDATE OF o SKIP LOCKED";

const DELETE_PUBLISHED: &str = "DELETE FROM outbox WHERE position = ANY($1)";
