/// Where the broker is, and the prefix of every exchange and queue name this system uses.
///
/// The broker is shared (tests, benchmarks, several deployments on one RabbitMQ), so two systems
/// with different prefixes never see each other's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusConfig {
    pub amqp_url: String,
    pub prefix: String,
    /// Most events the dead-letter queue keeps; past it the oldest are dropped. 0 = no limit.
    pub dead_letter_limit: u32,
}

impl BusConfig {
    /// The dead-letter queue's length when none is configured.
    pub const DEFAULT_DEAD_LETTER_LIMIT: u32 = 100_000;

    /// The system of `prefix` on the broker at `amqp_url`, with the default limits.
    pub fn new(amqp_url: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            amqp_url: amqp_url.into(),
            prefix: prefix.into(),
            dead_letter_limit: Self::DEFAULT_DEAD_LETTER_LIMIT,
        }
    }

    /// The prefix a system gets when none is configured: the name of its database, so two
    /// databases (two test runs, two deployments) never share a queue.
    pub fn default_prefix(database_url: &str) -> String {
        let without_query = database_url.split(['?', '#']).next().unwrap_or_default();
        let name = without_query
            .rsplit_once('/')
            .map(|(authority, name)| if authority.ends_with('/') { "" } else { name })
            .unwrap_or_default();
        if name.is_empty() {
            "chat".to_owned()
        } else {
            name.to_owned()
        }
    }

    /// The topic exchange every event is published to.
    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.prefix)
    }

    /// The projector's durable queue: every event, consumed by whichever projector runs.
    pub fn projector_queue(&self) -> String {
        format!("{}.projector", self.prefix)
    }

    /// The webhook delivery worker's durable queue: every room event and every change of a
    /// room's webhooks, consumed by whichever delivery worker runs.
    pub fn webhooks_queue(&self) -> String {
        format!("{}.webhooks", self.prefix)
    }

    /// Where events the projector could not apply wait, with the reason, for `chat dlq`.
    pub fn dead_letter_queue(&self) -> String {
        format!("{}.projector.dlq", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::BusConfig;

    #[test]
    fn the_default_prefix_is_the_database_name() {
        let url = "postgres://postgres@127.0.0.1:5432/chat_test_1?sslmode=disable";
        assert_eq!(BusConfig::default_prefix(url), "chat_test_1");
        assert_eq!(BusConfig::default_prefix("postgres://h/db"), "db");
    }

    #[test]
    fn a_url_without_a_database_name_gets_a_fixed_prefix() {
        assert_eq!(BusConfig::default_prefix("postgres://h:5432"), "chat");
        assert_eq!(BusConfig::default_prefix("postgres://h:5432/"), "chat");
    }
}
