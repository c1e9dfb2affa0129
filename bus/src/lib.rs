//! The bus between the event store and its consumers.
//!
//! Events leave the store through the outbox [`relay`], travel over RabbitMQ as
//! [`EventEnvelope`]s (JSON, routing key `<aggregate_type>.<aggregate_id>.<event_type>`), and
//! reach the projector's durable queue ([`AmqpFeed`]) and every fan-out node's own queue
//! ([`node_feed`]). Delivery is at least once: consumers dedupe by `(aggregate, sequence)`.
//!
//! RabbitMQ sits behind two small traits, [`Publish`] (what the relay writes to) and [`Feed`]
//! (what the projector reads from), so an in-process bus can take its place later. Messages
//! that are not events (the fan-out nodes' presence) go between processes as a [`Broadcast`].

mod backoff;
mod broadcast;
mod config;
mod connection;
mod error;
mod feed;
mod node_feed;
mod probe;
mod publisher;
pub mod relay;
mod topology;

pub use broadcast::Broadcast;
pub use config::BusConfig;
pub use error::BusError;
/// What travels on the bus is the stored event itself.
pub use eventstore::StoredEvent as EventEnvelope;
pub use feed::{AmqpFeed, Delivery, Feed, Intake, RETRY_HEADER};
pub use node_feed::{node_feed, NodeFeed};
pub use probe::BrokerProbe;
pub use publisher::{AmqpPublisher, Confirms, Publish};
pub use relay::{describe_metrics, RELAY_PUBLISHED};
pub use topology::{
    dead_letters, retry_dead_letters, DeadLetter, DeadLetterPage, Topology, ERROR_HEADER,
};
