//! S4: 15,000 idle sockets: the server's memory per socket (goal ≤ 20 KB) and how fast they
//! connect (goal ≥ 1,000/s). Our sockets are real members of 150 rooms (ten users with ten
//! sockets each per room), admitted from the event store and announced to their room.

use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;

use super::ws_rig::{self, Api, Kind, Server};
use crate::{Figure, Goal, ScenarioReport, Target};

const ROOMS: usize = 150;
const USERS_PER_ROOM: usize = 10;
/// Handshakes under way at once.
const PARALLEL: usize = 64;

struct Outcome {
    /// Bytes of resident memory per socket.
    per_socket: f64,
    connect_rate: f64,
    sockets: usize,
}

pub async fn run(target: &Target, quick: bool) -> anyhow::Result<ScenarioReport> {
    let sockets_per_user = if quick { 2 } else { 10 };
    let ours = measure(&Server::chat(target), sockets_per_user).await?;
    let server = Server::baseline().await?;
    let baseline = measure(&server, sockets_per_user).await;
    let baseline_server = server.stop().await;
    let baseline = baseline?;
    Ok(ScenarioReport {
        id: "S4",
        baseline_server,
        title: "idle sockets",
        figures: vec![
            Figure::new("server memory per socket", ours.per_socket / 1000.0, "KB")
                .goal(Goal::AtMost(20.0))
                .baseline(baseline.per_socket / 1000.0),
            Figure::new("connects per second", ours.connect_rate, "/s")
                .goal(Goal::AtLeast(1000.0))
                .baseline(baseline.connect_rate),
        ],
        notes: vec![format!(
            "{} v2 sockets over {ROOMS} rooms, {PARALLEL} handshakes at a time, each admitted (token, \
             room, membership from the event store) and announced; memory is the server process's \
             resident set after they opened minus before, divided by their number. The clients keep \
             reading, so they answer pings. Baseline: the bare axum broadcast server, same buffers.",
            ours.sockets
        )],
    })
}

async fn measure(server: &Server, sockets_per_user: usize) -> anyhow::Result<Outcome> {
    let urls = urls(server, sockets_per_user).await?;
    let sockets = urls.len();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = server
        .usage()?
        .context("S4 reads the memory of a server it started")?
        .rss;
    let (opened, took) = ws_rig::open_many(server.kind, urls, PARALLEL).await?;
    // Idle, but alive: each client reads, so it answers the server's pings.
    let readers: Vec<_> = opened
        .into_iter()
        .map(|mut ws| tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} }))
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = server.usage()?.context("the server is gone")?.rss;
    for reader in readers {
        reader.abort();
    }
    Ok(Outcome {
        per_socket: after.saturating_sub(before) as f64 / sockets as f64,
        connect_rate: sockets as f64 / took.as_secs_f64(),
        sockets,
    })
}

async fn urls(server: &Server, sockets_per_user: usize) -> anyhow::Result<Vec<String>> {
    let mut urls = Vec::new();
    if server.kind == Kind::Baseline {
        for room in 0..ROOMS {
            for _ in 0..USERS_PER_ROOM * sockets_per_user {
                urls.push(server.ws_url(&format!("room{room}"), None, "v=2"));
            }
        }
        return Ok(urls);
    }
    let api = Api::new(server);
    let tag = ws_rig::run_tag();
    for room in 0..ROOMS {
        let members = api.users(&format!("{tag}r{room}u"), USERS_PER_ROOM).await?;
        let id = api.room(&members[0], &format!("{tag} idle {room}")).await?;
        api.join_all(&id, &members[1..]).await?;
        for token in &members {
            for _ in 0..sockets_per_user {
                urls.push(server.ws_url(&id, Some(token), "v=2"));
            }
        }
    }
    Ok(urls)
}
