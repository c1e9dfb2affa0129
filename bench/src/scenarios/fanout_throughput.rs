//! S3: one room with 1,000 subscribers: deliveries per second (goal ≥ 100,000, p99 ≤ 150 ms).
//! Ten members offer 150 messages a second between them; a server that keeps up delivers a
//! thousand times that, and its latency says whether it kept up.

use std::time::Duration;

use super::ws_load::{self, Shape, Via};
use super::ws_rig::Server;
use crate::{Figure, Goal, ScenarioReport, Target};

const OFFERED: f64 = 150.0;
/// Members who talk at once, each over their own socket.
const SENDERS: usize = 10;

pub async fn run(target: &Target, quick: bool) -> anyhow::Result<ScenarioReport> {
    // --quick: a tenth of the room, held to a tenth of the deliveries.
    let subscribers = if quick { 100 } else { 1000 };
    let deliveries_goal = 100.0 * subscribers as f64;
    let room = if quick {
        "1 room × 100"
    } else {
        "1 room × 1,000"
    };
    let shape = Shape {
        rooms: 1,
        subscribers_per_room: subscribers,
        senders_per_room: SENDERS,
        rate: OFFERED,
        warmup: Duration::from_secs(if quick { 1 } else { 2 }),
        measured: Duration::from_secs(if quick { 3 } else { 20 }),
        via: Via::Socket,
    };
    let ours = ws_load::measure(&Server::chat(target), shape).await?;
    let baseline = ws_load::baseline(shape).await?;
    let mut figures = vec![
        Figure::new("deliveries per second", ours.deliveries_per_second, "/s")
            .goal(Goal::AtLeast(deliveries_goal))
            .baseline(baseline.deliveries_per_second),
    ];
    figures.extend(
        ws_load::figures(room, &ours, &baseline, (None, Some(150.0)))
            .into_iter()
            .filter(|figure| !figure.name.ends_with("deliveries per second")),
    );
    Ok(ScenarioReport {
        baseline_server: baseline.server,
        id: "S3",
        title: "fan-out, 1 room × 1,000 subscribers",
        figures,
        notes: vec![
            format!(
                "{SENDERS} members offer {OFFERED} msg/s between them, each over their socket, to a room of {subscribers} v2 subscribers \
                 (distinct members); deliveries counted over the measured window. Baseline: the bare \
                 axum broadcast server under the same load."
            ),
            ws_load::note(room, &ours, &baseline),
        ],
    })
}
