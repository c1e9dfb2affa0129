//! S1: 10 rooms × 100 subscribers, 100 messages a second over all rooms: how long a message takes
//! from a sender's socket to every subscriber's (goal p50 ≤ 5 ms, p99 ≤ 25 ms, none lost or
//! reordered). On our server the path is the whole system: WebSocket send, command executor,
//! commit, outbox relay, RabbitMQ, the node's consumer, the room's stream.

use std::time::Duration;

use super::ws_load::{self, Shape, Via};
use super::ws_rig;

pub async fn run(quick: bool) -> anyhow::Result<()> {
    let shape = Shape {
        rooms: 10,
        subscribers_per_room: 100,
        rate: 100.0,
        warmup: Duration::from_secs(if quick { 2 } else { 5 }),
        measured: Duration::from_secs(if quick { 5 } else { 30 }),
        via: Via::Socket,
    };
    let (ours, baseline) = ws_load::compare(shape).await?;
    let through_broker = ws_load::ours(Shape {
        via: Via::Rest,
        ..shape
    })
    .await?;
    ws_rig::table_head(
        "S1 — 10 rooms × 100 subscribers at 100 msg/s: send→receive latency, sent over WebSocket",
    );
    ws_load::report(&ours, &baseline, ("≤ 5 ms", "≤ 25 ms"), "");
    ws_rig::table_head(
        "S1 (broker path) — the same, sent through REST: outbox relay, RabbitMQ, the node's consumer",
    );
    ws_load::report(&through_broker, &baseline, ("≤ 5 ms", "≤ 25 ms"), "");
    Ok(())
}
