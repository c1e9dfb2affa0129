//! S8: fast senders. One room of 1,000 subscribers; two members send as fast as they may while
//! keeping at most 32 of their messages unreceived (sent, not yet back on their own socket), for
//! 15 s, in each dialect: v1 plain text frames, v2 send frames. No socket may be closed, and
//! every subscriber must get every message once, in each sender's order. Deliveries per second
//! are set beside the bare broadcast server's under the same load (goal: at least 0.3×).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use super::ws_rig::{self, Api, Kind, Server, Ws};
use crate::{Figure, Goal, ScenarioReport, Target};

const SENDERS: usize = 2;
/// Messages a sender keeps sent but not yet back on its own socket.
const WINDOW: usize = 32;
/// Our deliveries per second, at least this share of the bare broadcast server's.
const RATIO_GOAL: f64 = 0.3;

/// How senders write their messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// v1: a plain text frame is a message (the baseline's only dialect).
    Plain,
    /// v2: `{"type":"send", content, client_msg_id}`, acknowledged in order.
    Json,
}

#[derive(Debug, Clone, Copy)]
struct Shape {
    subscribers: usize,
    warmup: Duration,
    measured: Duration,
    /// How long, after the senders stop, the last deliveries are waited for.
    settle: Duration,
}

#[derive(Debug, Default)]
struct Outcome {
    sent: u64,
    deliveries_per_second: f64,
    /// Deliveries missing at the end, over every subscriber.
    lost: u64,
    /// Deliveries that came twice, or after a later message of their sender.
    duplicated_or_reordered: u64,
    /// Acks that did not come in the order of their sends (v2 on ours).
    acks_out_of_order: u64,
    /// Sockets (subscribers and senders) closed before the end, with one of the reasons.
    closed: (usize, Option<String>),
}

impl Outcome {
    fn closed_note(&self) -> String {
        match &self.closed {
            (0, _) => "none".into(),
            (count, reason) => format!("{count} ({})", reason.as_deref().unwrap_or("")),
        }
    }
}

pub async fn run(target: &Target, quick: bool) -> anyhow::Result<ScenarioReport> {
    let shape = Shape {
        subscribers: if quick { 100 } else { 1000 },
        warmup: Duration::from_secs(if quick { 1 } else { 2 }),
        measured: Duration::from_secs(if quick { 3 } else { 15 }),
        settle: Duration::from_secs(10),
    };
    let ours = Server::chat(target);
    let plain = measure(&ours, Dialect::Plain, shape).await?;
    let json = measure(&ours, Dialect::Json, shape).await?;
    let server = Server::baseline().await?;
    let baseline = measure(&server, Dialect::Plain, shape).await;
    let baseline_server = server.stop().await;
    let baseline = baseline?;
    let goal = RATIO_GOAL * baseline.deliveries_per_second;
    let mut figures = Vec::new();
    for (what, outcome) in [("v1", &plain), ("v2", &json)] {
        figures.push(
            Figure::new(
                format!("{what}: deliveries per second"),
                outcome.deliveries_per_second,
                "/s",
            )
            .goal(Goal::AtLeast(goal))
            .baseline(baseline.deliveries_per_second),
        );
        figures.push(
            Figure::new(
                format!("{what}: lost, duplicated or reordered"),
                (outcome.lost + outcome.duplicated_or_reordered + outcome.acks_out_of_order) as f64,
                "",
            )
            .goal(Goal::AtMost(0.0))
            .baseline((baseline.lost + baseline.duplicated_or_reordered) as f64),
        );
        figures.push(
            Figure::new(
                format!("{what}: sockets closed"),
                outcome.closed.0 as f64,
                "",
            )
            .goal(Goal::AtMost(0.0))
            .baseline(baseline.closed.0 as f64),
        );
    }
    let seconds = (shape.warmup + shape.measured).as_secs_f64();
    let notes = vec![
        format!(
            "{SENDERS} members each keep up to {WINDOW} of their messages unreceived, as fast as \
             that allows, for {} s ({} s warm-up), to a room of {} subscribers of the same dialect; \
             deliveries counted by arrival in the last {} s. v1 sends plain text frames, v2 send \
             frames with a client_msg_id (acks must come in the order sent). Baseline: the bare \
             axum broadcast server under the same load; goal {RATIO_GOAL}× its deliveries.",
            seconds,
            shape.warmup.as_secs(),
            shape.subscribers,
            shape.measured.as_secs()
        ),
        format!(
            "messages sent: v1 {} ({:.0}/s), v2 {} ({:.0}/s), baseline {} ({:.0}/s); lost v1 {} / \
             v2 {} / baseline {}; sockets closed: v1 {}, v2 {}, baseline {}.",
            plain.sent,
            plain.sent as f64 / seconds,
            json.sent,
            json.sent as f64 / seconds,
            baseline.sent,
            baseline.sent as f64 / seconds,
            plain.lost,
            json.lost,
            baseline.lost,
            plain.closed_note(),
            json.closed_note(),
            baseline.closed_note()
        ),
    ];
    Ok(ScenarioReport {
        id: "S8",
        title: "fast senders, 1 room × 1,000 subscribers",
        figures,
        notes,
        baseline_server,
    })
}

/// One run of the shape against `server`, senders writing in `dialect`.
async fn measure(server: &Server, dialect: Dialect, shape: Shape) -> anyhow::Result<Outcome> {
    let query = match dialect {
        Dialect::Plain => "",
        Dialect::Json => "v=2",
    };
    let (subscriber_urls, sender_urls) = prepare(server, query, shape).await?;
    let (subscribers, _) = ws_rig::open_many(server.kind, subscriber_urls, 64).await?;
    let mut senders = Vec::new();
    for url in &sender_urls {
        senders.push(ws_rig::subscribe(server.kind, url).await?);
    }
    if server.kind == Kind::Baseline {
        // The baseline subscribes after its handshake: let the last ones settle.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let epoch = Instant::now();
    let window = shape.warmup..shape.warmup + shape.measured;
    let (totals, final_count) = watch::channel(None);
    let (give_up, given_up) = watch::channel(false);
    let readers: Vec<_> = subscribers
        .into_iter()
        .map(|ws| {
            let subscriber = Subscriber {
                epoch,
                window: window.clone(),
                totals: final_count.clone(),
                give_up: given_up.clone(),
            };
            tokio::spawn(subscriber.read(ws))
        })
        .collect();
    let bar = super::timed(window.end, "sending");
    let sending: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(index, ws)| {
            let sender = Sender {
                index,
                dialect,
                until: epoch + window.end,
                settle: shape.settle,
            };
            tokio::spawn(sender.send(ws))
        })
        .collect();
    let mut outcome = Outcome::default();
    let mut sent = [0; SENDERS];
    for (index, sender) in sending.into_iter().enumerate() {
        let report = sender.await?;
        sent[index] = report.sent;
        outcome.sent += report.sent;
        outcome.acks_out_of_order += report.acks_out_of_order;
        outcome.closed_by(report.closed);
    }
    bar.finish_and_clear();
    totals.send_replace(Some(sent));
    let settle = tokio::spawn(async move {
        tokio::time::sleep(shape.settle).await;
        give_up.send_replace(true);
    });
    let mut delivered = 0;
    for reader in readers {
        let report = reader.await?;
        delivered += report.in_window;
        outcome.lost += report.lost;
        outcome.duplicated_or_reordered += report.duplicated_or_reordered;
        outcome.closed_by(report.closed);
    }
    settle.abort();
    outcome.deliveries_per_second = delivered as f64 / shape.measured.as_secs_f64();
    Ok(outcome)
}

impl Outcome {
    fn closed_by(&mut self, reason: Option<String>) {
        if let Some(reason) = reason {
            self.closed.0 += 1;
            self.closed.1.get_or_insert(reason);
        }
    }
}

/// The subscribers' and the senders' socket URLs of a fresh room.
async fn prepare(
    server: &Server,
    query: &str,
    shape: Shape,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    if server.kind == Kind::Baseline {
        let room = format!("fast-{}", ws_rig::run_tag());
        let url = server.ws_url(&room, None, "");
        return Ok((vec![url.clone(); shape.subscribers], vec![url; SENDERS]));
    }
    let api = Api::new(server);
    let tag = ws_rig::run_tag();
    let senders = api.users(&format!("{tag}fast"), SENDERS).await?;
    let room = api
        .room(&senders[0], &format!("{tag} fast senders"))
        .await?;
    api.join_all(&room, &senders[1..]).await?;
    let subscribers = api.users(&format!("{tag}fs"), shape.subscribers).await?;
    api.join_all(&room, &subscribers).await?;
    let url = |token: &String| server.ws_url(&room, Some(token.as_str()), query);
    Ok((
        subscribers.iter().map(&url).collect(),
        senders.iter().map(&url).collect(),
    ))
}

/// The sender and index of one of this scenario's messages, from any frame carrying it (ours
/// or the baseline's): its content is `fast <sender> <index>`.
fn message_of(frame: &str) -> Option<(usize, u64)> {
    const MARK: &str = "\"content\":\"fast ";
    let rest = &frame[frame.find(MARK)? + MARK.len()..];
    let (sender, rest) = rest.split_once(' ')?;
    let index = &rest[..rest.find('"')?];
    Some((sender.parse().ok()?, index.parse().ok()?))
}

/// The index an ack of ours carries back in its `client_msg_id` (`<sender>-<index>`).
fn acked_index(frame: &str) -> Option<u64> {
    if !frame.starts_with("{\"type\":\"ack\"") {
        return None;
    }
    const MARK: &str = "\"client_msg_id\":\"";
    let rest = &frame[frame.find(MARK)? + MARK.len()..];
    let id = &rest[..rest.find('"')?];
    id.split_once('-')?.1.parse().ok()
}

/// Why a socket's stream ended, if the server ended it.
fn ending(frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) -> String {
    match frame {
        Some(Ok(Message::Close(close))) => format!("{close:?}"),
        Some(Err(error)) => error.to_string(),
        _ => "connection ended".into(),
    }
}

struct Sender {
    index: usize,
    dialect: Dialect,
    until: Instant,
    /// How long the last messages are waited for once sending stopped.
    settle: Duration,
}

struct SenderReport {
    sent: u64,
    acks_out_of_order: u64,
    closed: Option<String>,
}

impl Sender {
    /// Sends until `until`, never more than [`WINDOW`] messages unreceived; then waits (at most
    /// `settle`) for the last of them to come back.
    async fn send(self, ws: Ws) -> SenderReport {
        let (mut sink, mut stream) = ws.split();
        let window = Arc::new(Semaphore::new(WINDOW));
        let (sent_tx, mut sent_rx) = watch::channel(None::<u64>);
        let returned = window.clone();
        let me = self.index;
        // What comes back: its own messages free a place in the window; acks must be in order.
        let receiving = tokio::spawn(async move {
            let (mut back, mut next_ack, mut acks_out_of_order) = (0u64, 0u64, 0u64);
            loop {
                if sent_rx.borrow().is_some_and(|sent| back >= sent) {
                    return (acks_out_of_order, None);
                }
                let frame = tokio::select! {
                    frame = stream.next() => frame,
                    _ = sent_rx.changed() => continue,
                };
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_))) => continue,
                    other => return (acks_out_of_order, Some(ending(other))),
                };
                if let Some(index) = acked_index(text.as_str()) {
                    acks_out_of_order += u64::from(index != next_ack);
                    next_ack = index + 1;
                } else if message_of(text.as_str()).is_some_and(|(sender, _)| sender == me) {
                    back += 1;
                    returned.add_permits(1);
                }
            }
        });
        let mut sent = 0u64;
        while Instant::now() < self.until {
            let Ok(Ok(place)) = tokio::time::timeout_at(self.until.into(), window.acquire()).await
            else {
                break;
            };
            place.forget();
            let content = format!("fast {me} {sent}");
            let frame = match self.dialect {
                Dialect::Plain => content,
                Dialect::Json => {
                    json!({"type": "send", "content": content, "client_msg_id": format!("{me}-{sent}")})
                        .to_string()
                }
            };
            if sink.send(Message::Text(frame.into())).await.is_err() {
                break;
            }
            sent += 1;
        }
        sent_tx.send_replace(Some(sent));
        // Messages that never come back are counted lost by the subscribers.
        let (acks_out_of_order, closed) = match tokio::time::timeout(self.settle, receiving).await {
            Ok(Ok(received)) => received,
            Ok(Err(failed)) => (0, Some(format!("the receiving task failed: {failed}"))),
            Err(_) => (0, None),
        };
        SenderReport {
            sent,
            acks_out_of_order,
            closed,
        }
    }
}

struct Subscriber {
    epoch: Instant,
    window: std::ops::Range<Duration>,
    /// How many messages each sender sent, once they all stopped.
    totals: watch::Receiver<Option<[u64; SENDERS]>>,
    give_up: watch::Receiver<bool>,
}

struct SubscriberReport {
    in_window: u64,
    lost: u64,
    duplicated_or_reordered: u64,
    closed: Option<String>,
}

impl Subscriber {
    /// Reads until every message sent came, or the wait for them is over.
    async fn read(mut self, mut ws: Ws) -> SubscriberReport {
        let mut next = [0u64; SENDERS];
        let mut report = SubscriberReport {
            in_window: 0,
            lost: 0,
            duplicated_or_reordered: 0,
            closed: None,
        };
        loop {
            if let Some(totals) = *self.totals.borrow() {
                if next == totals {
                    break;
                }
            }
            let frame = tokio::select! {
                frame = ws.next() => frame,
                _ = self.totals.changed() => continue,
                _ = self.give_up.wait_for(|given_up| *given_up) => break,
            };
            let text = match frame {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_))) => continue,
                other => {
                    report.closed = Some(ending(other));
                    break;
                }
            };
            let Some((sender, index)) = message_of(text.as_str()) else {
                continue;
            };
            let Some(expected) = next.get_mut(sender) else {
                continue;
            };
            if index < *expected {
                report.duplicated_or_reordered += 1;
                continue;
            }
            report.lost += index - *expected;
            *expected = index + 1;
            if self.window.contains(&self.epoch.elapsed()) {
                report.in_window += 1;
            }
        }
        if let Some(totals) = *self.totals.borrow() {
            for (expected, total) in next.iter().zip(totals) {
                report.lost += total.saturating_sub(*expected);
            }
        }
        report
    }
}
