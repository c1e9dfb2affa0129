//! Webhooks: every event of a room POSTed, signed as the Standard Webhooks specification says,
//! to each endpoint its owners registered, in the room's order, at least once.
//!
//! [`run`] is the delivery worker. Its intake follows the bus (queue `<prefix>.webhooks`, which
//! gets the events of rooms with a webhook: `follow`) and turns room events into deliveries
//! (`intake`); its dispatchers deliver them, each webhook by
//! one dispatcher at a time, retrying with a growing pause and dead-lettering past the give-up
//! age (`dispatch`). Every connection goes only to an address the guard admits (`guard`, `send`).

mod dispatch;
mod follow;
pub mod guard;
mod intake;
mod send;
pub mod signature;

use std::sync::Arc;
use std::time::Duration;

use bus::AmqpFeed;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use guard::AllowList;

/// `chat_webhook_deliveries_total{outcome}`: attempts `delivered` or `failed`, and deliveries
/// `dead_lettered`.
pub const DELIVERIES: &str = "chat_webhook_deliveries_total";

/// How deliveries are made and retried.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Hosts and networks that may be reached although not public.
    pub allow: AllowList,
    /// The pause after the first failed attempt; it doubles after each further one…
    pub retry_first: Duration,
    /// …up to this.
    pub retry_max: Duration,
    /// A delivery still failing this long after it was queued is dead-lettered.
    pub give_up: Duration,
    /// One attempt's limit, connection included.
    pub timeout: Duration,
    /// Dispatchers in this process: webhooks delivered to at once.
    pub dispatchers: usize,
    /// How often idle dispatchers look for due deliveries (queued ones wake them at once).
    pub poll_interval: Duration,
    /// How often the intake reads the store for events the bus did not bring.
    pub catch_up_interval: Duration,
}

impl DeliverySettings {
    /// The pause before attempt `failed + 1`, after `failed` failed attempts.
    pub fn pause_after(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(32);
        self.retry_first
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.retry_max)
    }

    /// How long a dispatcher holds a webhook without renewing: past any one attempt.
    fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(30)
    }
}

/// Runs the delivery worker until `shutdown`: the intake from `bus` and the dispatchers.
pub async fn run(
    pool: PgPool,
    bus: bus::BusConfig,
    settings: DeliverySettings,
    shutdown: CancellationToken,
) {
    let wake = Arc::new(Notify::new());
    let sender = send::Sender::new(settings.allow.clone(), settings.timeout);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..settings.dispatchers.max(1) {
        tasks.spawn(dispatch::run(
            pool.clone(),
            sender.clone(),
            settings.clone(),
            Arc::clone(&wake),
            shutdown.clone(),
        ));
    }
    let feed = AmqpFeed::webhooks(bus, follow::BATCH as u16);
    tasks.spawn(follow::run(pool, feed, settings, wake, shutdown));
    while tasks.join_next().await.is_some() {}
}
