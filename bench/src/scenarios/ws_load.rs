//! Live load on rooms: senders post at a steady rate, every subscriber measures how long each
//! message took from its send to its arrival, and checks that none is lost or out of order.
//! S1 and S3 are this with different shapes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::ws_rig::{self, Api, Kind, Server};
use crate::{Figure, Goal, Usage};

#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub rooms: usize,
    pub subscribers_per_room: usize,
    /// Members of each room who send, sharing the room's rate.
    pub senders_per_room: usize,
    /// Messages per second over all rooms.
    pub rate: f64,
    pub warmup: Duration,
    pub measured: Duration,
    pub via: Via,
}

impl Shape {
    /// How long the last messages and acks are given to arrive after the senders stop: ample
    /// beside any latency measured, and short in a quick run.
    fn settle(&self) -> Duration {
        (self.measured / 4).min(Duration::from_secs(3))
    }
}

/// How senders post: over their socket, or through `POST /rooms/{id}/messages` (whose
/// messages reach sockets through the outbox relay and the broker; the baseline has no REST and
/// always uses its socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Socket,
    Rest,
}

/// Where one room's sender posts.
enum Outlet {
    Socket(Box<ws_rig::Ws>),
    Rest {
        http: reqwest::Client,
        url: String,
        token: String,
    },
}

#[derive(Debug)]
pub struct Outcome {
    /// Send-to-receive latency of the measured messages (ms).
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    /// Send to the sender's answer (ack, or REST response): the write path's share (ms).
    pub write_p50: f64,
    pub write_p99: f64,
    pub sent: u64,
    pub delivered: u64,
    /// Deliveries of measured messages, per second of the measured window.
    pub deliveries_per_second: f64,
    pub lost: u64,
    /// Messages that arrived after a later one, or twice (ours only: the baseline has no seq).
    pub out_of_order: u64,
    /// Subscribers the server closed before the end, with one of the reasons.
    pub closed_early: (usize, Option<String>),
    /// What the server used, for the baseline server (the harness reads ours).
    pub server: Option<Usage>,
}

struct Received {
    latencies: Vec<u32>,
    out_of_order: u64,
    /// Why the server closed this subscriber before the end, if it did.
    closed: Option<String>,
}

/// Runs the shape against `server` and measures it.
pub async fn measure(server: &Server, shape: Shape) -> anyhow::Result<Outcome> {
    let (rooms, sender_tokens, subscriber_urls) = prepare(server, shape).await?;
    let (subscribers, _) = ws_rig::open_many(server.kind, subscriber_urls, 64).await?;
    if server.kind == Kind::Baseline {
        // The baseline subscribes after its handshake: let the last ones settle.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let epoch = Instant::now();
    let window_start = shape.warmup.as_micros() as u64;
    let window_end = (shape.warmup + shape.measured).as_micros() as u64;
    let (stop, stopped) = watch::channel(false);
    let readers: Vec<_> = subscribers
        .into_iter()
        .map(|ws| {
            tokio::spawn(read(
                ws,
                epoch,
                (window_start, window_end),
                server.kind,
                stopped.clone(),
            ))
        })
        .collect();

    let everyone = shape.rooms * shape.senders_per_room;
    let period = Duration::from_secs_f64(everyone as f64 / shape.rate);
    let mut senders = Vec::new();
    for (index, room) in rooms.iter().enumerate() {
        for turn in 0..shape.senders_per_room {
            let token = sender_tokens.get(index).and_then(|tokens| tokens.get(turn));
            let outlet = match (shape.via, token) {
                (Via::Rest, Some(token)) => Outlet::Rest {
                    http: reqwest::Client::new(),
                    url: format!("{}/rooms/{room}/messages", server.http()),
                    token: token.clone(),
                },
                _ => {
                    let url = server.ws_url(room, token.map(String::as_str), "v=2");
                    Outlet::Socket(Box::new(ws_rig::subscribe(server.kind, &url).await?))
                }
            };
            let nth = index * shape.senders_per_room + turn;
            let offset = period.mul_f64(nth as f64 / everyone as f64);
            senders.push(tokio::spawn(send(
                outlet,
                server.kind,
                epoch,
                offset,
                period,
                window_start..window_end,
                shape,
            )));
        }
    }
    let bar = super::timed(shape.warmup + shape.measured, "sending");
    let mut sent = 0;
    let mut acks = Vec::new();
    for sender in senders {
        let (in_window, answered) = sender.await??;
        sent += in_window;
        acks.extend(answered);
    }
    bar.finish_and_clear();
    // Let the last messages arrive.
    tokio::time::sleep(shape.settle()).await;
    stop.send_replace(true);
    let mut latencies = Vec::new();
    let mut out_of_order = 0;
    let mut closed_early = (0, None);
    for reader in readers {
        let received = reader.await?;
        latencies.extend(received.latencies);
        out_of_order += received.out_of_order;
        if let Some(reason) = received.closed {
            closed_early.0 += 1;
            closed_early.1.get_or_insert(reason);
        }
    }
    let expected = sent * shape.subscribers_per_room as u64;
    let delivered = latencies.len() as u64;
    let [p50, p90, p99, max] = ws_rig::percentiles(&mut latencies);
    let [write_p50, _, write_p99, _] = ws_rig::percentiles(&mut acks);
    Ok(Outcome {
        p50,
        p90,
        p99,
        max,
        write_p50,
        write_p99,
        sent,
        delivered,
        deliveries_per_second: delivered as f64 / shape.measured.as_secs_f64(),
        lost: expected.saturating_sub(delivered),
        out_of_order,
        closed_early,
        server: None,
    })
}

/// Rooms, their senders (the owner and other members) and the subscribers' socket URLs.
async fn prepare(
    server: &Server,
    shape: Shape,
) -> anyhow::Result<(Vec<String>, Vec<Vec<String>>, Vec<String>)> {
    if server.kind == Kind::Baseline {
        let rooms: Vec<String> = (0..shape.rooms).map(|i| format!("room{i}")).collect();
        let urls = rooms
            .iter()
            .flat_map(|room| {
                (0..shape.subscribers_per_room).map(move |_| server.ws_url(room, None, ""))
            })
            .collect();
        return Ok((rooms, Vec::new(), urls));
    }
    let api = Api::new(server);
    let tag = ws_rig::run_tag();
    let owners = api.users(&format!("{tag}owner"), shape.rooms).await?;
    let mut rooms = Vec::new();
    let mut senders = Vec::new();
    let mut urls = Vec::new();
    for (index, owner) in owners.iter().enumerate() {
        let room = api.room(owner, &format!("{tag} room {index}")).await?;
        let others = api
            .users(&format!("{tag}r{index}w"), shape.senders_per_room - 1)
            .await?;
        api.join_all(&room, &others).await?;
        senders.push(std::iter::once(owner.clone()).chain(others).collect());
        let members = api
            .users(&format!("{tag}r{index}s"), shape.subscribers_per_room)
            .await?;
        api.join_all(&room, &members).await?;
        urls.extend(
            members
                .iter()
                .map(|token| server.ws_url(&room, Some(token), "v=2")),
        );
        rooms.push(room);
    }
    Ok((rooms, senders, urls))
}

/// Sends one stamped message per period until the shape's run ends; answers how many were
/// stamped inside the measured window.
async fn send(
    outlet: Outlet,
    kind: Kind,
    epoch: Instant,
    offset: Duration,
    period: Duration,
    window: std::ops::Range<u64>,
    shape: Shape,
) -> anyhow::Result<(u64, Vec<u32>)> {
    let acks = Arc::new(Mutex::new(Vec::new()));
    let (mut sink, rest, drain) = match outlet {
        Outlet::Socket(ws) => {
            let (sink, mut stream) = (*ws).split();
            // What comes back is read, so the socket never stalls; acks tell how long the write
            // path took (send to commit, and the node's own sockets handed the message).
            let acks = acks.clone();
            let window = window.clone();
            let drain = tokio::spawn(async move {
                while let Some(Ok(Message::Text(text))) = stream.next().await {
                    if let Some(stamp) = ws_rig::acked_stamp(text.as_str()) {
                        if window.contains(&stamp) {
                            acks.lock().expect("acks").push(since(epoch, stamp));
                        }
                    }
                }
            });
            (Some(sink), None, Some(drain))
        }
        Outlet::Rest { http, url, token } => (None, Some((http, url, token)), None),
    };
    let mut ticks = tokio::time::interval_at((epoch + offset).into(), period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut in_window = 0;
    let mut index = 0u64;
    loop {
        ticks.tick().await;
        if epoch.elapsed() >= shape.warmup + shape.measured {
            break;
        }
        let stamp = epoch.elapsed().as_micros() as u64;
        let text = format!("{stamp} m{index}");
        if window.contains(&stamp) {
            in_window += 1;
        }
        match (&mut sink, &rest) {
            (Some(sink), _) => ws_rig::send_message(kind, sink, stamp, text).await?,
            (None, Some((http, url, token))) => {
                http.post(url)
                    .bearer_auth(token)
                    .json(&serde_json::json!({ "content": text }))
                    .send()
                    .await?
                    .error_for_status()?;
                if window.contains(&stamp) {
                    acks.lock().expect("acks").push(since(epoch, stamp));
                }
            }
            (None, None) => unreachable!("an outlet is a socket or REST"),
        }
        index += 1;
    }
    // The last acks are on their way.
    tokio::time::sleep(shape.settle()).await;
    if let Some(drain) = drain {
        drain.abort();
    }
    let acks = std::mem::take(&mut *acks.lock().expect("acks"));
    Ok((in_window, acks))
}

/// Microseconds from `stamp` to now.
fn since(epoch: Instant, stamp: u64) -> u32 {
    let now = epoch.elapsed().as_micros() as u64;
    u32::try_from(now.saturating_sub(stamp)).unwrap_or(u32::MAX)
}

async fn read(
    mut ws: ws_rig::Ws,
    epoch: Instant,
    (start, end): (u64, u64),
    kind: Kind,
    mut stop: watch::Receiver<bool>,
) -> Received {
    let mut latencies = Vec::new();
    let mut out_of_order = 0;
    let mut last_seq = None;
    let mut closed = None;
    loop {
        let frame = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            frame = ws.next() => frame,
        };
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                closed = Some(format!("{frame:?}"));
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => {
                closed = Some(error.to_string());
                break;
            }
            None => {
                closed = Some("connection ended".into());
                break;
            }
        };
        let text = text.as_str();
        let Some(stamp) = ws_rig::stamp_of(text) else {
            continue;
        };
        let now = epoch.elapsed().as_micros() as u64;
        if kind == Kind::Chat {
            let seq = ws_rig::seq_of(text);
            if let (Some(last), Some(seq)) = (last_seq, seq) {
                if seq != last + 1 {
                    out_of_order += 1;
                }
            }
            last_seq = seq.or(last_seq);
        }
        if (start..end).contains(&stamp) {
            latencies.push(u32::try_from(now.saturating_sub(stamp)).unwrap_or(u32::MAX));
        }
    }
    Received {
        latencies,
        out_of_order,
        closed,
    }
}

/// The figures of a load run, ours beside the baseline's; `what` names the variant.
pub fn figures(
    what: &str,
    ours: &Outcome,
    baseline: &Outcome,
    latency_goals: (Option<f64>, Option<f64>),
) -> Vec<Figure> {
    let with_goal = |figure: Figure, goal: Option<f64>| match goal {
        Some(limit) => figure.goal(Goal::AtMost(limit)),
        None => figure,
    };
    vec![
        with_goal(
            Figure::new(format!("{what}: p50 send→receive"), ours.p50, "ms").baseline(baseline.p50),
            latency_goals.0,
        ),
        Figure::new(format!("{what}: p90 send→receive"), ours.p90, "ms").baseline(baseline.p90),
        with_goal(
            Figure::new(format!("{what}: p99 send→receive"), ours.p99, "ms").baseline(baseline.p99),
            latency_goals.1,
        ),
        Figure::new(format!("{what}: max send→receive"), ours.max, "ms").baseline(baseline.max),
        Figure::new(
            format!("{what}: p50 send→answer (write path)"),
            ours.write_p50,
            "ms",
        ),
        Figure::new(
            format!("{what}: p99 send→answer (write path)"),
            ours.write_p99,
            "ms",
        ),
        Figure::new(
            format!("{what}: deliveries per second"),
            ours.deliveries_per_second,
            "/s",
        )
        .baseline(baseline.deliveries_per_second),
        Figure::new(
            format!("{what}: lost or out of order"),
            (ours.lost + ours.out_of_order) as f64,
            "",
        )
        .goal(Goal::AtMost(0.0))
        .baseline(baseline.lost as f64),
    ]
}

/// What the table does not show: counts, and subscribers closed before the end.
pub fn note(what: &str, ours: &Outcome, baseline: &Outcome) -> String {
    let closed = |outcome: &Outcome| match &outcome.closed_early {
        (0, _) => "none".to_owned(),
        (count, reason) => format!("{count} ({})", reason.as_deref().unwrap_or("")),
    };
    format!(
        "{what}: {} messages sent in the measured window, {} deliveries (baseline {} / {}); \
         subscribers closed early: {} (baseline {}).",
        ours.sent,
        ours.delivered,
        baseline.sent,
        baseline.delivered,
        closed(ours),
        closed(baseline)
    )
}

/// The baseline under the same shape, in its own process.
pub async fn baseline(shape: Shape) -> anyhow::Result<Outcome> {
    let server = Server::baseline().await?;
    let outcome = measure(&server, shape).await;
    let usage = server.stop().await;
    Ok(Outcome {
        server: usage,
        ..outcome?
    })
}
