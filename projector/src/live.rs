//! The live projector: applies events from the bus as they come, after catching up on what it
//! missed while it was away.

use std::time::Duration;

use bus::{Delivery, EventEnvelope, Feed, Intake};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use eventstore::log::HorizonPages;
use eventstore::EventLog;

use crate::apply::Incoming;
use crate::checkpoints::LIVE_CHECKPOINTS;
use crate::horizon::{advance_horizon, stored_horizon};
use crate::lag::{ProjectionLag, PROJECTOR_APPLIED};
use crate::poison::apply_isolating_poison;
use crate::sink::DeadLetters;
use crate::target::Target;
use crate::ProjectorError;

#[derive(Debug, Clone)]
pub struct ProjectorSettings {
    /// Most events applied in one transaction.
    pub batch_size: usize,
    /// Most events the broker sends ahead of acknowledgements.
    pub prefetch: u16,
    /// How often to catch up with the store anyway, for events the broker lost without the
    /// projector noticing (at least a second).
    pub catch_up_interval: Duration,
}

impl Default for ProjectorSettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
            prefetch: 1000,
            catch_up_interval: Duration::from_secs(60),
        }
    }
}

/// A shorter interval would read the store in a busy loop.
const MIN_CATCH_UP_INTERVAL: Duration = Duration::from_secs(1);

/// How long to wait before trying a failed batch again.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// What the projector does next.
enum Step {
    Project(Vec<Delivery>),
    /// Apply what the store holds and the tables lack, for the reason given.
    CatchUp(&'static str),
}

/// Projects until `shutdown` is cancelled: first whatever the store holds that the tables lack
/// (the bus delivers only what was published while its queue existed), then the feed. It catches
/// up with the store again whenever the bus may have lost events (after every reconnect to the
/// broker, and at `catch_up_interval`) and whenever PostgreSQL restarted.
///
/// Progress is logged as events with their fields, never recorded into the span, so no line
/// grows however long the projector runs; how far behind it is goes to `lag`.
pub async fn run(
    pool: PgPool,
    mut feed: impl Feed,
    settings: ProjectorSettings,
    lag: ProjectionLag,
    shutdown: CancellationToken,
) {
    async {
        let mut totals = Totals::default();
        let target = Target::live();
        let Some(mut server_started) = caught_up(&pool, &target, &mut feed, &lag, &shutdown).await
        else {
            return;
        };
        let mut server_check = tokio::time::interval(SERVER_CHECK);
        let every = settings.catch_up_interval.max(MIN_CATCH_UP_INTERVAL);
        let mut regular = tokio::time::interval_at(Instant::now() + every, every);
        loop {
            let step = tokio::select! {
                _ = shutdown.cancelled() => return,
                intake = feed.next_batch(settings.batch_size) => match intake {
                    Intake::Deliveries(batch) => Step::Project(batch),
                    Intake::Reconnected => Step::CatchUp("the broker connection came back"),
                },
                _ = server_check.tick() => {
                    // Commits are asynchronous (see `apply`): a server that restarted may
                    // have lost the last ones, which the store still holds.
                    if server_start(&pool).await.is_ok_and(|started| started != server_started) {
                        Step::CatchUp("PostgreSQL restarted")
                    } else {
                        continue;
                    }
                }
                _ = regular.tick() => Step::CatchUp("the regular look at the store"),
            };
            match step {
                Step::Project(batch) => {
                    let project = project(&pool, &target, &mut feed, batch, &lag, &mut totals);
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        () = project => {}
                    }
                }
                Step::CatchUp(reason) => {
                    tracing::debug!(reason, "catching up with the event store");
                    match caught_up(&pool, &target, &mut feed, &lag, &shutdown).await {
                        Some(started) => server_started = started,
                        None => return,
                    }
                }
            }
        }
    }
    .instrument(tracing::info_span!("projector"))
    .await
}

/// How often the projector looks whether PostgreSQL restarted.
const SERVER_CHECK: Duration = Duration::from_secs(5);

/// Catches up with the store, trying again until it succeeds; answers when the server it
/// caught up on started, or `None` at shutdown.
async fn caught_up(
    pool: &PgPool,
    target: &Target,
    feed: &mut impl Feed,
    lag: &ProjectionLag,
    shutdown: &CancellationToken,
) -> Option<DateTime<Utc>> {
    loop {
        let caught_up = async {
            let started = server_start(pool).await?;
            let events = catch_up(pool, target, feed, lag).await?;
            Ok::<_, ProjectorError>((started, events))
        };
        let caught_up = tokio::select! {
            _ = shutdown.cancelled() => return None,
            caught_up = caught_up => caught_up,
        };
        match caught_up {
            Ok((started, events)) => {
                // Most regular looks find nothing: those are not worth a line each.
                if events > 0 {
                    tracing::info!(events, "caught up with the event store");
                } else {
                    tracing::debug!("the event store held nothing unapplied");
                }
                return Some(started);
            }
            Err(error) => {
                tracing::warn!(%error, "catching up failed; trying again");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }
}

async fn server_start(pool: &PgPool) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_postmaster_start_time()")
        .fetch_one(pool)
        .await
}

#[derive(Debug, Default)]
struct Totals {
    applied: u64,
    dead_lettered: u64,
}

/// Applies one batch from the feed, trying again until it commits (an event the database
/// refuses is dead-lettered, not tried for ever: see `poison`), then acknowledges it all with
/// one acknowledgement.
async fn project(
    pool: &PgPool,
    target: &Target,
    feed: &mut impl Feed,
    batch: Vec<Delivery>,
    lag: &ProjectionLag,
    totals: &mut Totals,
) {
    let Some(last) = batch.last() else { return };
    let mut incoming = Vec::with_capacity(batch.len());
    for delivery in &batch {
        match serde_json::from_slice::<EventEnvelope>(&delivery.body) {
            Ok(envelope) => incoming.push(Incoming {
                envelope,
                retried: delivery.retried,
            }),
            Err(error) => {
                let reason = format!("not an event envelope: {error}");
                while let Err(error) = feed
                    .dead_letter(&delivery.body, &delivery.routing_key, &reason)
                    .await
                {
                    tracing::warn!(%error, "cannot dead-letter; trying again");
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                totals.dead_lettered += 1;
            }
        }
    }
    lag.taking(&incoming);
    loop {
        match apply_isolating_poison(pool, target, &incoming, &mut DeadLetters(&mut *feed)).await {
            Ok(applied) => {
                lag.applied();
                metrics::counter!(PROJECTOR_APPLIED).increment(applied.events as u64);
                totals.applied += applied.events as u64;
                totals.dead_lettered += applied.poisoned as u64;
                tracing::debug!(
                    events = applied.events,
                    applied = totals.applied,
                    dead_lettered = totals.dead_lettered,
                    "applied a batch"
                );
                break;
            }
            Err(error) => {
                tracing::warn!(%error, events = incoming.len(), "a batch failed; trying again");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }
    feed.ack_through(last).await;
}

/// Applies every event the store holds and the live tables lack, reading from the horizon the
/// last catch-up reached, then moves the horizon up. Answers how many events it applied.
async fn catch_up(
    pool: &PgPool,
    target: &Target,
    feed: &mut impl Feed,
    lag: &ProjectionLag,
) -> Result<u64, ProjectorError> {
    let horizon = EventLog::on(&mut *pool.acquire().await?)
        .current_horizon()
        .await?;
    let since = stored_horizon(&mut *pool.acquire().await?).await?;
    let mut pages = HorizonPages::unapplied(since, LIVE_CHECKPOINTS);
    let mut applied = 0;
    loop {
        let page = EventLog::on(&mut *pool.acquire().await?)
            .next_page(&mut pages)
            .await?;
        if page.is_empty() {
            break;
        }
        let incoming: Vec<Incoming> = page.into_iter().map(Incoming::from).collect();
        lag.taking(&incoming);
        let batch = apply_isolating_poison(pool, target, &incoming, &mut DeadLetters(feed)).await?;
        lag.applied();
        metrics::counter!(PROJECTOR_APPLIED).increment(batch.events as u64);
        applied += batch.events as u64;
    }
    advance_horizon(&mut *pool.acquire().await?, &horizon).await?;
    Ok(applied)
}
