//! The settings of webhooks: how many a room may have, where deliveries may go, and how they
//! are retried.

use std::time::Duration;

use webhooks::{AllowList, DeliverySettings};

use crate::ConfigError;

#[derive(Debug, Clone, clap::Args)]
pub struct WebhookSettings {
    /// Hosts, addresses or networks (comma-separated, e.g. `hooks.internal,10.0.0.0/8`) that
    /// webhook deliveries may reach although they are not public (loopback, private,
    /// link-local, …); public ones always may.
    #[arg(
        long = "webhook-allow",
        env = "CHAT_WEBHOOK_ALLOW",
        value_delimiter = ',',
        global = true
    )]
    pub allow: Vec<String>,
    /// Most webhooks one room may have at once.
    #[arg(long = "webhooks-per-room", env = "CHAT_WEBHOOKS_PER_ROOM", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000), global = true)]
    pub per_room: u16,
    /// The pause after a delivery's first failed attempt; it doubles after each further one.
    #[arg(long = "webhook-retry-first", env = "CHAT_WEBHOOK_RETRY_FIRST", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub retry_first: Duration,
    /// The longest pause between two attempts.
    #[arg(long = "webhook-retry-max", env = "CHAT_WEBHOOK_RETRY_MAX", default_value = "1h", value_parser = humantime::parse_duration, global = true)]
    pub retry_max: Duration,
    /// How long after it was queued a failing delivery is dead-lettered.
    #[arg(long = "webhook-give-up", env = "CHAT_WEBHOOK_GIVE_UP", default_value = "24h", value_parser = humantime::parse_duration, global = true)]
    pub give_up: Duration,
    /// One attempt's time limit, connecting included.
    #[arg(long = "webhook-timeout", env = "CHAT_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub timeout: Duration,
    /// Webhooks one process delivers to at once (each holds its webhook's lease while it
    /// delivers; a slow endpoint ties up one of them).
    #[arg(long = "webhook-dispatchers", env = "CHAT_WEBHOOK_DISPATCHERS", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256), global = true)]
    pub dispatchers: u16,
    /// How often an idle dispatcher looks for deliveries that came due (a retry's pause ending,
    /// or another process's queueing); deliveries this process queues wake it at once.
    #[arg(long = "webhook-poll-interval", env = "CHAT_WEBHOOK_POLL_INTERVAL", default_value = "500ms", value_parser = humantime::parse_duration, global = true)]
    pub poll_interval: Duration,
}

impl WebhookSettings {
    /// The delivery worker's settings; a retry setting that cannot work stops the process.
    pub fn delivery(&self, catch_up_interval: Duration) -> Result<DeliverySettings, ConfigError> {
        let allow = AllowList::parse(&self.allow).map_err(|why| {
            ConfigError::new(format!("CHAT_WEBHOOK_ALLOW (--webhook-allow): {why}"))
        })?;
        if self.retry_first.is_zero() || self.retry_max < self.retry_first {
            return Err(ConfigError::new(
                "CHAT_WEBHOOK_RETRY_FIRST must be above 0 and at most CHAT_WEBHOOK_RETRY_MAX",
            ));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::new("CHAT_WEBHOOK_TIMEOUT must be above 0"));
        }
        // Below this, idle dispatchers would spin on the database.
        if self.poll_interval < Duration::from_millis(10) {
            return Err(ConfigError::new(
                "CHAT_WEBHOOK_POLL_INTERVAL must be at least 10ms",
            ));
        }
        Ok(DeliverySettings {
            allow,
            retry_first: self.retry_first,
            retry_max: self.retry_max,
            give_up: self.give_up,
            timeout: self.timeout,
            dispatchers: usize::from(self.dispatchers),
            poll_interval: self.poll_interval,
            catch_up_interval,
        })
    }
}
