//! S3: one room with 1,000 subscribers: deliveries per second (goal ≥ 100,000, p99 ≤ 150 ms).
//! The senders offer `rate` messages a second; a server that keeps up delivers a thousand times
//! that, and its latency says whether it kept up.

use std::time::Duration;

use super::ws_load::{self, Shape, Via};
use super::ws_rig;

pub async fn run(quick: bool, rate: f64) -> anyhow::Result<()> {
    let shape = Shape {
        rooms: 1,
        subscribers_per_room: 1000,
        rate,
        warmup: Duration::from_secs(2),
        measured: Duration::from_secs(if quick { 5 } else { 20 }),
        via: Via::Socket,
    };
    let (ours, baseline) = ws_load::compare(shape).await?;
    ws_rig::table_head(&format!(
        "S3 — 1 room × 1,000 subscribers, {rate} msg/s offered: deliveries per second"
    ));
    ws_load::report(&ours, &baseline, ("", "≤ 150 ms"), "≥ 100,000");
    Ok(())
}
