//! S9: 1,000 Server-Sent Events clients follow one room through `GET /events` while one member
//! posts 100 messages a second over its socket: each client must receive every message once and in order
//! (p99 event-to-client ≤ 150 ms), deliveries per second at least half of what the same room
//! delivers over WebSocket in the same run, and a client away for 10 s that comes back with
//! `Last-Event-ID` must miss nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::watch;

use super::ws_load::{self, Shape, Via};
use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use super::ws_rig::{self, Api, Kind, Server};
use crate::{Figure, Goal, ScenarioReport, Target};

const RATE: f64 = 100.0;
/// Time given to every stream to open before the first post.
const OPENING: Duration = Duration::from_secs(2);

#[derive(Clone, Copy)]
struct Plan {
    followers: usize,
    warmup: Duration,
    measured: Duration,
    /// How long the one client that leaves stays away before resuming.
    away: Duration,
}

pub async fn run(target: &Target, quick: bool) -> anyhow::Result<ScenarioReport> {
    // --quick: a tenth of the clients, a short window, two seconds away.
    let plan = Plan {
        followers: if quick { 100 } else { 1000 },
        warmup: Duration::from_secs(if quick { 1 } else { 2 }),
        measured: Duration::from_secs(if quick { 4 } else { 20 }),
        away: Duration::from_secs(if quick { 2 } else { 10 }),
    };
    let server = Server::chat(target);
    let feed = measure(&server, target, plan).await?;
    // The same work over WebSocket, on the same server in the same run: a room of as many
    // subscribers, one member posting over its socket at the same rate.
    let sockets = ws_load::measure(
        &server,
        Shape {
            rooms: 1,
            subscribers_per_room: plan.followers,
            senders_per_room: 1,
            rate: RATE,
            warmup: plan.warmup,
            measured: plan.measured,
            via: Via::Socket,
        },
    )
    .await?;
    let figures = vec![
        Figure::new("SSE deliveries per second", feed.per_second, "/s")
            .goal(Goal::AtLeast(0.5 * sockets.deliveries_per_second))
            .baseline(sockets.deliveries_per_second),
        Figure::new("SSE event-to-client p50", feed.p50, "ms").baseline(sockets.p50),
        Figure::new("SSE event-to-client p99", feed.p99, "ms")
            .goal(Goal::AtMost(150.0))
            .baseline(sockets.p99),
        Figure::new("SSE event-to-client max", feed.max, "ms").baseline(sockets.max),
        Figure::new(
            "clients that missed, repeated or reordered a message",
            feed.faulty as f64,
            "",
        )
        .goal(Goal::AtMost(0.0)),
        Figure::new(
            format!(
                "messages missed by the client away {} s",
                plan.away.as_secs()
            ),
            feed.missed_by_returner as f64,
            "",
        )
        .goal(Goal::AtMost(0.0)),
    ];
    Ok(ScenarioReport {
        baseline_server: None,
        id: "S9",
        title: "the event feed, 1 room × 1,000 SSE clients",
        figures,
        notes: vec![
            format!(
                "{} members follow GET /events (Accept: text/event-stream) from the head of the log, each with its own token; one \
                 member posts {RATE} msg/s over a v2 WebSocket (sends in flight, committed in the order sent) for {} s after a {} s warm-up. Latency: post sent to event parsed by the \
                 client, messages of the measured window only, the returning client left out. One client drops its stream after the warm-up, stays away {} s \
                 and resumes with Last-Event-ID. Baseline: the same room, posting rate and subscriber count over v2 WebSockets \
                 on the same server, measured right after ({} messages sent, {} delivered, {} lost).",
                plan.followers,
                plan.measured.as_secs(),
                plan.warmup.as_secs(),
                plan.away.as_secs(),
                sockets.sent,
                sockets.delivered,
                sockets.lost,
            ),
            format!(
                "SSE: {} messages posted ({:.0}/s of the {RATE} offered), {} delivered in the window \
                 ({} in all).",
                feed.sent,
                feed.sent as f64 / (plan.warmup + plan.measured).as_secs_f64(),
                feed.in_window,
                feed.delivered
            ),
        ],
    })
}

struct FeedOutcome {
    sent: u64,
    delivered: u64,
    in_window: u64,
    per_second: f64,
    p50: f64,
    p99: f64,
    max: f64,
    faulty: usize,
    missed_by_returner: u64,
}

/// What one client read.
#[derive(Default)]
struct Received {
    /// The message numbers, in the order they came.
    numbers: Vec<u64>,
    /// Post-to-parse latencies of the measured window, in microseconds.
    latencies: Vec<u32>,
}

async fn measure(server: &Server, target: &Target, plan: Plan) -> anyhow::Result<FeedOutcome> {
    let api = Api::new(server);
    let tag = ws_rig::run_tag();
    let poster = api.user(&format!("feedposter{tag}")).await?;
    let room = api.room(&poster, &format!("feed {tag}")).await?;
    let followers = api.users(&format!("feed{tag}_"), plan.followers).await?;
    api.join_all(&room, &followers).await?;
    let head = head_of_log(&target.database_url).await?;

    // The clock starts once every stream had time to open, so the warm-up is posting time.
    let epoch = Instant::now() + OPENING;
    let window = (
        plan.warmup.as_micros() as u64,
        (plan.warmup + plan.measured).as_micros() as u64,
    );
    let (stop, stopped) = watch::channel(false);
    let http = reqwest::Client::new();
    let url: Arc<str> = format!("{}/events", server.http()).into();
    let mut readers = Vec::new();
    for (index, token) in followers.into_iter().enumerate() {
        let client = Client {
            http: http.clone(),
            url: Arc::clone(&url),
            token,
            epoch,
            window,
            // The first client is the one that leaves and comes back.
            away: (index == 0).then_some((plan.warmup, plan.away)),
        };
        readers.push(tokio::spawn(client.follow(head, stopped.clone())));
    }
    tokio::time::sleep_until(epoch.into()).await;

    let bar = super::timed(plan.warmup + plan.measured, "posting");
    let sent = post(server, &poster, &room, epoch, plan.warmup + plan.measured).await?;
    bar.finish_and_clear();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.send_replace(true);

    let mut latencies = Vec::new();
    let (mut delivered, mut faulty, mut missed_by_returner) = (0, 0, 0);
    for (index, reader) in readers.into_iter().enumerate() {
        let received = reader.await??;
        let exact = received.numbers.iter().copied().eq(0..sent);
        if !exact {
            faulty += 1;
        }
        if index == 0 {
            missed_by_returner = (0..sent).filter(|n| !received.numbers.contains(n)).count() as u64;
        }
        delivered += received.numbers.len() as u64;
        // The returner's catch-up is seconds old by design: not a live latency.
        if index != 0 {
            latencies.extend(received.latencies);
        }
    }
    let in_window = latencies.len() as u64;
    let [p50, _, p99, max] = ws_rig::percentiles(&mut latencies);
    Ok(FeedOutcome {
        sent,
        delivered,
        in_window,
        per_second: in_window as f64 / plan.measured.as_secs_f64(),
        p50,
        p99,
        max,
        faulty,
        missed_by_returner,
    })
}

/// The last position written: every follower starts right after it.
async fn head_of_log(database_url: &str) -> anyhow::Result<i64> {
    let pool = eventstore::connect(database_url, 1).await?;
    let head: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(head.unwrap_or(0))
}

/// Posts `"<stamp> <n>"` at [`RATE`] over one v2 socket of the poster's: the server commits a
/// socket's sends in the order sent, so the log holds them in order, and several may be in flight
/// at once, so the rate holds whatever one commit takes. Answers how many were posted, once each
/// was acknowledged.
async fn post(
    server: &Server,
    token: &str,
    room: &str,
    epoch: Instant,
    length: Duration,
) -> anyhow::Result<u64> {
    let url = server.ws_url(room, Some(token), "v=2");
    let (mut sink, mut stream) = ws_rig::subscribe(Kind::Chat, &url).await?.split();
    let acks = Arc::new(AtomicU64::new(0));
    let reader: tokio::task::JoinHandle<anyhow::Result<()>> = tokio::spawn({
        let acks = acks.clone();
        async move {
            while let Some(frame) = stream.next().await {
                match frame? {
                    Message::Text(text) if ws_rig::acked_stamp(text.as_str()).is_some() => {
                        acks.fetch_add(1, Ordering::Relaxed);
                    }
                    Message::Text(text) if text.as_str().starts_with("{\"type\":\"error\"") => {
                        anyhow::bail!("the poster's send was refused: {}", text.as_str())
                    }
                    Message::Close(frame) => anyhow::bail!("the poster's socket closed: {frame:?}"),
                    _ => {}
                }
            }
            anyhow::bail!("the poster's socket ended")
        }
    });
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / RATE));
    let mut n = 0;
    while epoch.elapsed() < length && !reader.is_finished() {
        ticks.tick().await;
        let stamp = epoch.elapsed().as_micros() as u64;
        ws_rig::send_message(Kind::Chat, &mut sink, stamp, format!("{stamp} {n}")).await?;
        n += 1;
    }
    // The acks of the last sends are on their way.
    let deadline = Instant::now() + Duration::from_secs(5);
    while acks.load(Ordering::Relaxed) < n && Instant::now() < deadline && !reader.is_finished() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if reader.is_finished() {
        return Err(reader
            .await?
            .expect_err("the reader ends only on a failure"));
    }
    reader.abort();
    let acked = acks.load(Ordering::Relaxed);
    anyhow::ensure!(
        acked == n,
        "{n} messages sent over the socket, {acked} acknowledged"
    );
    Ok(n)
}

struct Client {
    http: reqwest::Client,
    url: Arc<str>,
    token: String,
    epoch: Instant,
    window: (u64, u64),
    /// When to leave (since the epoch) and for how long.
    away: Option<(Duration, Duration)>,
}

impl Client {
    async fn open(&self, last_event_id: i64) -> anyhow::Result<reqwest::Response> {
        let response = self
            .http
            .get(&*self.url)
            .bearer_auth(&self.token)
            .header("accept", "text/event-stream")
            .header("last-event-id", last_event_id.to_string())
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "the feed answered {}",
            response.status()
        );
        Ok(response)
    }

    /// Reads the stream until `stopped`, leaving and resuming once if it is the one away.
    async fn follow(
        self,
        mut last_id: i64,
        mut stopped: watch::Receiver<bool>,
    ) -> anyhow::Result<Received> {
        let mut received = Received::default();
        let mut response = self.open(last_id).await?;
        let mut buffer = String::new();
        let mut away = self.away;
        loop {
            if let Some((leave_at, length)) = away {
                if self.epoch.elapsed() >= leave_at {
                    drop(response);
                    tokio::time::sleep(length).await;
                    // What was read but not yet parsed is dropped with the stream, as a client
                    // that goes away loses it; the position says where to resume.
                    buffer.clear();
                    response = self.open(last_id).await?;
                    away = None;
                }
            }
            let chunk = tokio::select! {
                _ = stopped.changed() => return Ok(received),
                chunk = response.chunk() => chunk?.context("the feed ended")?,
                () = tokio::time::sleep(Duration::from_millis(100)), if away.is_some() => continue,
            };
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                if let Some(id) = self.take(&block, &mut received) {
                    last_id = id;
                }
            }
        }
    }

    /// Records one event of the stream; answers its position.
    fn take(&self, block: &str, received: &mut Received) -> Option<i64> {
        let id = block
            .lines()
            .find_map(|line| line.strip_prefix("id:"))?
            .trim()
            .parse()
            .ok()?;
        let data = block.lines().find_map(|line| line.strip_prefix("data:"));
        if let Some((stamp, n)) = data.and_then(stamp_and_number) {
            received.numbers.push(n);
            let now = self.epoch.elapsed().as_micros() as u64;
            if (self.window.0..self.window.1).contains(&stamp) {
                received
                    .latencies
                    .push(u32::try_from(now.saturating_sub(stamp)).unwrap_or(u32::MAX));
            }
        }
        Some(id)
    }
}

/// The `"<stamp> <n>"` a posted message carries, read from the event's JSON without parsing
/// all of it (a thousand clients parse a hundred events a second each).
fn stamp_and_number(data: &str) -> Option<(u64, u64)> {
    if !data.contains("\"MessagePosted\"") {
        return None;
    }
    let stamp = ws_rig::stamp_of(data)?;
    let start = data.find("\"content\":\"")? + "\"content\":\"".len();
    let rest = &data[start..];
    let after_space = &rest[rest.find(' ')? + 1..];
    let n = after_space[..after_space.find('"')?].parse().ok()?;
    Some((stamp, n))
}
