//! S1: 10 rooms × 100 subscribers, 100 messages a second over all rooms: how long a message takes
//! from a sender to every subscriber's socket (goal p50 ≤ 5 ms, p99 ≤ 25 ms, none lost or
//! reordered). Sent over a socket, a message reaches the sockets of its node as soon as it is
//! committed; sent through REST it takes the path every other node's messages take: the outbox
//! relay, RabbitMQ and the node's consumer. Both are measured.

use std::time::Duration;

use super::ws_load::{self, Shape, Via};
use super::ws_rig::Server;
use crate::{ScenarioReport, Target};

pub async fn run(target: &Target, quick: bool) -> anyhow::Result<ScenarioReport> {
    let shape = Shape {
        rooms: 10,
        subscribers_per_room: if quick { 10 } else { 100 },
        senders_per_room: 1,
        rate: 100.0,
        warmup: Duration::from_secs(if quick { 1 } else { 5 }),
        measured: Duration::from_secs(if quick { 3 } else { 30 }),
        via: Via::Socket,
    };
    let server = Server::chat(target);
    let socket = ws_load::measure(&server, shape).await?;
    let rest = ws_load::measure(
        &server,
        Shape {
            via: Via::Rest,
            ..shape
        },
    )
    .await?;
    let baseline = ws_load::baseline(shape).await?;
    let goals = (Some(5.0), Some(25.0));
    let mut figures = ws_load::figures("sent over WebSocket", &socket, &baseline, goals);
    figures.extend(ws_load::figures(
        "sent through REST (broker path)",
        &rest,
        &baseline,
        goals,
    ));
    Ok(ScenarioReport {
        baseline_server: baseline.server,
        id: "S1",
        title: "10 rooms × 100 subscribers at 100 msg/s: send-to-receive latency",
        figures,
        notes: vec![
            "Subscribers are v2 sockets of distinct members; one sender per room (the owner) sends \
             every 100 ms, stamped with its send time; 5 s warm-up, 30 s measured. Baseline: a bare \
             axum broadcast server (no auth, store or broker; same socket buffers) under the same load."
                .to_owned(),
            ws_load::note("sent over WebSocket", &socket, &baseline),
            ws_load::note("sent through REST", &rest, &baseline),
        ],
    })
}
