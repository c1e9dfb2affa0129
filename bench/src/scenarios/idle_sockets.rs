//! S4: 15,000 idle sockets: the server's memory per socket (goal ≤ 20 KB) and how fast they
//! connect (goal ≥ 1,000/s). Our sockets are real members of 150 rooms (ten users with ten
//! sockets each per room), admitted from the event store and announced to their room.

use std::time::Duration;

use futures::StreamExt;

use super::ws_rig::{self, Api, Kind, Server};

const ROOMS: usize = 150;
const USERS_PER_ROOM: usize = 10;

struct Outcome {
    per_socket: f64,
    connect_rate: f64,
    sockets: usize,
}

pub async fn run(quick: bool) -> anyhow::Result<()> {
    let sockets_per_user = if quick { 2 } else { 10 };
    let server = Server::chat().await?;
    let ours = measure(&server, sockets_per_user).await;
    server.stop().await?;
    let server = Server::baseline().await?;
    let baseline = measure(&server, sockets_per_user).await;
    server.stop().await?;
    let (ours, baseline) = (ours?, baseline?);
    ws_rig::table_head(&format!("S4 — {} idle sockets", ours.sockets));
    let kb = |bytes: f64| format!("{:.1} KB", bytes / 1000.0);
    ws_rig::row(
        "server memory per socket",
        kb(ours.per_socket),
        kb(baseline.per_socket),
        "≤ 20 KB",
    );
    ws_rig::row(
        "connects/s (64 handshakes at a time)",
        format!("{:.0}", ours.connect_rate),
        format!("{:.0}", baseline.connect_rate),
        "≥ 1,000",
    );
    Ok(())
}

async fn measure(server: &Server, sockets_per_user: usize) -> anyhow::Result<Outcome> {
    let urls = urls(server, sockets_per_user).await?;
    let sockets = urls.len();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = server.rss()?;
    let (opened, took) = ws_rig::open_many(server.kind, urls, 64).await?;
    // Idle, but alive: each client reads, so it answers the server's pings.
    let readers: Vec<_> = opened
        .into_iter()
        .map(|mut ws| tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} }))
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = server.rss()?;
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
    for room in 0..ROOMS {
        let members = api.users(&format!("r{room}u"), USERS_PER_ROOM).await?;
        let id = api.room(&members[0], &format!("idle {room}")).await?;
        api.join_all(&id, &members[1..]).await?;
        for token in &members {
            for _ in 0..sockets_per_user {
                urls.push(server.ws_url(&id, Some(token), "v=2"));
            }
        }
    }
    Ok(urls)
}
