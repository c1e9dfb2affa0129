//! The projection pipeline against the real PostgreSQL and RabbitMQ: relay, bus, projector,
//! catch-up, dead letters, rebuild and verify.

mod catching_up;
mod crashing;
mod dead_letters;
mod helpers;
mod isolation;
mod lost_by_the_broker;
mod node_feed;
mod ordering;
mod plans;
mod rebuilding;
mod refused_events;
mod relaying;
