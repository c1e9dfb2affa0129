//! S7: 5,000 clients reconnect at once with `since` (goal: all back within 5 s, every missed
//! message exactly once, in order). The clients are live v2 sockets of 50 rooms; they all drop,
//! 20 messages a room are posted while they are away, and then every one of them reconnects at
//! the same instant with `since` set to the last message it saw. A client is back when it holds
//! everything its room said meanwhile; afterwards one more message a room checks that each is
//! live again. The baseline reconnects the same sockets to the bare broadcast server, which has
//! nothing to resume: its clients are back when their handshake is done.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::ws_rig::{self, Api, Kind, Server};
use crate::{Figure, Goal, ScenarioReport, Target};

const ROOMS: usize = 50;
const USERS_PER_ROOM: usize = 10;
/// Messages each room gets while its clients are away.
const MISSED_PER_ROOM: usize = 20;
/// How long a client may take to be back before it counts as never back.
const GIVE_UP: Duration = Duration::from_secs(30);

/// One room of the storm: its id (or the baseline's name), the member who posts, and the sequence
/// every client of the room saw last before dropping.
struct Room {
    id: String,
    poster: Option<String>,
    seen: i64,
}

/// What one reconnecting client lived through.
#[derive(Default)]
struct Client {
    /// From the storm's start to holding every missed message (to the handshake, on the baseline).
    back_after: Option<Duration>,
    /// Missed and live messages that never came, came twice, or came out of order.
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
    /// Why the connection failed or closed, if it did.
    failed: Option<String>,
}

struct Outcome {
    clients: usize,
    back: Vec<Duration>,
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
    failures: Vec<String>,
}

pub async fn run(target: &Target, quick: bool) -> anyhow::Result<ScenarioReport> {
    let sockets_per_user = if quick { 1 } else { 10 };
    let ours = measure(&Server::chat(target), sockets_per_user).await?;
    let server = Server::baseline().await?;
    let baseline = measure(&server, sockets_per_user).await;
    let baseline_server = server.stop().await;
    let baseline = baseline?;

    let [ours_p50, ours_p90, ours_p99, ours_max] = percentiles(&ours.back);
    let [base_p50, base_p90, base_p99, base_max] = percentiles(&baseline.back);
    let failures = |outcome: &Outcome| match outcome.failures.first() {
        None => "none".to_owned(),
        Some(first) => format!("{} (first: {first})", outcome.failures.len()),
    };
    Ok(ScenarioReport {
        id: "S7",
        baseline_server,
        title: "a reconnect storm: every client at once, resuming with since",
        figures: vec![
            Figure::new("all back", ours_max, "ms")
                .goal(Goal::AtMost(5000.0))
                .baseline(base_max),
            Figure::new("back p50", ours_p50, "ms").baseline(base_p50),
            Figure::new("back p90", ours_p90, "ms").baseline(base_p90),
            Figure::new("back p99", ours_p99, "ms").baseline(base_p99),
            Figure::new(
                "clients back per second",
                ours.back.len() as f64 / (ours_max / 1000.0),
                "/s",
            )
            .baseline(baseline.back.len() as f64 / (base_max / 1000.0)),
            Figure::new(
                "clients never back",
                (ours.clients - ours.back.len()) as f64,
                "",
            )
            .goal(Goal::AtMost(0.0))
            .baseline((baseline.clients - baseline.back.len()) as f64),
            Figure::new(
                "messages lost, duplicated or out of order",
                (ours.lost + ours.duplicated + ours.out_of_order) as f64,
                "",
            )
            .goal(Goal::AtMost(0.0))
            .baseline((baseline.lost + baseline.duplicated) as f64),
        ],
        notes: vec![
            format!(
                "{} v2 clients over {ROOMS} rooms ({USERS_PER_ROOM} members each, {sockets_per_user} \
                 sockets a member) drop at once; {MISSED_PER_ROOM} messages a room are posted \
                 through REST while they are away; then all reconnect at the same instant with \
                 `since`. A client is back when it holds every missed message; one more message a \
                 room afterwards must reach every client exactly once. Baseline: the same sockets \
                 reconnecting to the bare axum broadcast server, back at their handshake (it has \
                 nothing to resume).",
                ours.clients
            ),
            format!(
                "Lost {}, duplicated {}, out of order {} (over {} clients × {} messages); \
                 connections failed or closed: {} (baseline {}).",
                ours.lost,
                ours.duplicated,
                ours.out_of_order,
                ours.clients,
                MISSED_PER_ROOM + 1,
                failures(&ours),
                failures(&baseline)
            ),
        ],
    })
}

async fn measure(server: &Server, sockets_per_user: usize) -> anyhow::Result<Outcome> {
    let api = Api::new(server);
    let (mut rooms, urls) = prepare(server, &api, sockets_per_user).await?;

    // Everyone live, then everyone gone: a message a room tells each client where it left off.
    let first_urls = urls.iter().map(|(_, url)| url.clone()).collect();
    let (sockets, _) = ws_rig::open_many(server.kind, first_urls, 64).await?;
    post_to_every_room(server, &api, &mut rooms, "before the storm").await?;
    let seen = futures::future::join_all(
        sockets
            .into_iter()
            .zip(&urls)
            .map(|(ws, (room, _))| last_message_after(ws, rooms[*room].seen)),
    )
    .await;
    if let Some(failure) = seen.into_iter().find_map(Result::err) {
        return Err(failure.context("a client missed the message before the storm"));
    }
    let resumed_from: Vec<i64> = rooms.iter().map(|room| room.seen).collect();
    // The baseline keeps no history: what it is sent while its clients are away is gone.
    if server.kind == Kind::Chat {
        for _ in 0..MISSED_PER_ROOM {
            post_to_every_room(server, &api, &mut rooms, "while away").await?;
        }
    }

    let bar = super::progress(urls.len() as u64, "clients back");
    let (live, go_live) = watch::channel(None::<Vec<i64>>);
    let storm = Instant::now();
    let clients: Vec<_> = urls
        .iter()
        .map(|(room, url)| {
            let url = match server.kind {
                Kind::Chat => format!("{url}&since={}", resumed_from[*room]),
                Kind::Baseline => url.clone(),
            };
            tokio::spawn(reconnect(
                server.kind,
                url,
                *room,
                resumed_from[*room],
                rooms[*room].seen,
                storm,
                go_live.clone(),
                bar.clone(),
            ))
        })
        .collect();
    // Every client back (or given up), then one live message a room.
    while bar.position() < urls.len() as u64 && storm.elapsed() < GIVE_UP {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bar.finish();
    post_to_every_room(server, &api, &mut rooms, "after the storm").await?;
    live.send_replace(Some(rooms.iter().map(|room| room.seen).collect()));

    let mut outcome = Outcome {
        clients: urls.len(),
        back: Vec::new(),
        lost: 0,
        duplicated: 0,
        out_of_order: 0,
        failures: Vec::new(),
    };
    for client in clients {
        let client = client.await?;
        outcome.back.extend(client.back_after);
        outcome.lost += client.lost;
        outcome.duplicated += client.duplicated;
        outcome.out_of_order += client.out_of_order;
        outcome.failures.extend(client.failed);
    }
    Ok(outcome)
}

/// The rooms and every client's (room index, socket URL without `since`).
async fn prepare(
    server: &Server,
    api: &Api,
    sockets_per_user: usize,
) -> anyhow::Result<(Vec<Room>, Vec<(usize, String)>)> {
    let mut rooms = Vec::new();
    let mut urls = Vec::new();
    let tag = ws_rig::run_tag();
    for index in 0..ROOMS {
        let (room, tokens) = match server.kind {
            Kind::Baseline => (
                Room {
                    id: format!("storm{index}"),
                    poster: None,
                    seen: 0,
                },
                vec![None; USERS_PER_ROOM],
            ),
            Kind::Chat => {
                let members = api
                    .users(&format!("{tag}r{index}u"), USERS_PER_ROOM)
                    .await?;
                let id = api
                    .room(&members[0], &format!("{tag} storm {index}"))
                    .await?;
                api.join_all(&id, &members[1..]).await?;
                let room = Room {
                    id,
                    poster: Some(members[0].clone()),
                    seen: 0,
                };
                (room, members.into_iter().map(Some).collect())
            }
        };
        for token in &tokens {
            for _ in 0..sockets_per_user {
                urls.push((index, server.ws_url(&room.id, token.as_deref(), "v=2")));
            }
        }
        rooms.push(room);
    }
    Ok((rooms, urls))
}

/// Posts one message to every room and records its sequence as the room's latest. Ours take it
/// through REST; the baseline, which has no REST, through a socket of its own.
async fn post_to_every_room(
    server: &Server,
    api: &Api,
    rooms: &mut [Room],
    text: &str,
) -> anyhow::Result<()> {
    for room in rooms.iter_mut() {
        match &room.poster {
            Some(token) => room.seen = api.message(token, &room.id, text).await?,
            None => {
                let url = server.ws_url(&room.id, None, "");
                let mut ws = ws_rig::connect(&url).await?;
                // The bare server subscribes its socket after the handshake.
                tokio::time::sleep(Duration::from_millis(50)).await;
                ws_rig::send_message(Kind::Baseline, &mut ws, 0, format!("0 {text}")).await?;
                room.seen += 1;
            }
        }
    }
    Ok(())
}

/// Reads `ws` until the message with sequence `seq` (on the baseline: any message) came.
async fn last_message_after(mut ws: ws_rig::Ws, seq: i64) -> anyhow::Result<()> {
    let wait = async {
        while let Some(frame) = ws.next().await {
            if let Message::Text(text) = frame? {
                if is_message(text.as_str())
                    && ws_rig::seq_of(text.as_str()).is_none_or(|got| got >= seq)
                {
                    return Ok(());
                }
            }
        }
        anyhow::bail!("the socket closed")
    };
    tokio::time::timeout(GIVE_UP, wait)
        .await
        .context("no message within 30 s")?
}

/// A message frame, ours (v2) or the baseline's; presence and acks are not. The contents this
/// scenario sends never look like a type.
fn is_message(frame: &str) -> bool {
    frame.contains("\"type\":\"message\"")
}

/// One client of the storm: reconnects, collects what it missed, waits for the live message.
#[allow(clippy::too_many_arguments)]
async fn reconnect(
    kind: Kind,
    url: String,
    room: usize,
    resumed_from: i64,
    missed_through: i64,
    storm: Instant,
    mut live: watch::Receiver<Option<Vec<i64>>>,
    bar: indicatif::ProgressBar,
) -> Client {
    let mut client = Client::default();
    let mut ws = match ws_rig::connect(&url).await {
        Ok(ws) => ws,
        Err(error) => {
            client.failed = Some(format!("{error:#}"));
            bar.inc(1);
            return client;
        }
    };
    let mut received: Vec<i64> = Vec::new();
    if kind == Kind::Baseline {
        client.back_after = Some(storm.elapsed());
        bar.inc(1);
    }
    let expected_last = loop {
        let frame = tokio::select! {
            frame = ws.next() => frame,
            changed = live.wait_for(Option::is_some) => match changed {
                Ok(last) => break last.as_ref().map(|seqs| seqs[room]).unwrap_or_default(),
                Err(_) => break missed_through,
            },
        };
        match frame {
            Some(Ok(Message::Text(text))) if is_message(text.as_str()) => {
                received.push(ws_rig::seq_of(text.as_str()).unwrap_or(0));
                let holds_all_missed = received.last() >= Some(&missed_through);
                if kind == Kind::Chat && client.back_after.is_none() && holds_all_missed {
                    client.back_after = Some(storm.elapsed());
                    bar.inc(1);
                }
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                client.failed = Some(error.to_string());
                break missed_through;
            }
            None => {
                client.failed = Some("closed".into());
                break missed_through;
            }
        }
    };
    if client.back_after.is_none() && kind == Kind::Chat {
        bar.inc(1);
    }
    // The live message after the storm.
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while received.last() < Some(&expected_last) {
            match ws.next().await {
                Some(Ok(Message::Text(text))) if is_message(text.as_str()) => {
                    received.push(ws_rig::seq_of(text.as_str()).unwrap_or(expected_last));
                }
                Some(Ok(_)) => {}
                _ => break,
            }
        }
    })
    .await;
    let _ = ws.close(None).await;
    judge(kind, &mut client, &received, resumed_from, expected_last);
    client
}

/// Compares what came with what should have: on ours every sequence after `since` through the
/// live message once, in order; on the baseline (no history, no sequences) the live message.
fn judge(kind: Kind, client: &mut Client, received: &[i64], since: i64, last: i64) {
    let expected = match kind {
        Kind::Chat => (last - since).max(0) as u64,
        Kind::Baseline => 1,
    };
    let mut seen = std::collections::HashSet::new();
    let mut previous = since;
    for &seq in received {
        if kind == Kind::Chat {
            if !seen.insert(seq) {
                client.duplicated += 1;
                continue;
            }
            if seq != previous + 1 {
                client.out_of_order += 1;
            }
            previous = seq;
        }
    }
    let unique = match kind {
        Kind::Chat => seen.len() as u64,
        Kind::Baseline => received.len().min(1) as u64,
    };
    client.lost = expected.saturating_sub(unique);
}

/// p50, p90, p99 and max, in milliseconds.
fn percentiles(samples: &[Duration]) -> [f64; 4] {
    if samples.is_empty() {
        return [f64::NAN; 4];
    }
    crate::report::percentiles(&mut samples.to_vec())
}
