//! The load: messages posted through REST, spread over the command APIs, and sent on v2
//! sockets, one sender a room, spread over the fan-out nodes. Each message has a key, its
//! `client_msg_id` and content; a client that gets no acknowledgement sends the same key again,
//! through REST on the next command API, on a socket after reconnecting (to the next node when
//! its own failed), until it is acknowledged or [`GIVE_UP`] passed. Every fourth message is
//! sent by a client that never tries twice (its key ends in [`ONCE`]): what it was not told
//! about must be stored once or not at all.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ledger::Ledger;
use super::subscribers::CONNECT_WITHIN;
use crate::scenarios::ws_rig;

/// How long a client keeps sending a message again before it gives up on it.
pub const GIVE_UP: Duration = Duration::from_secs(30);
/// The first pause before sending again; it doubles up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// The end of the key of a message whose client gives up at the first failure.
const ONCE: &str = "-once";

/// The key of the `count`th message of a sender.
fn key(phase: usize, room: usize, via: &str, count: usize) -> String {
    let once = if count % 4 == 3 { ONCE } else { "" };
    format!("p{phase}-r{room}-{via}-{count}{once}")
}

/// What the load is doing: sending in a phase, or paused.
pub type Phase = watch::Receiver<Option<usize>>;

/// One room as the senders see it.
#[derive(Debug, Clone)]
pub struct Room {
    pub id: String,
    /// The member who posts to it.
    pub poster: String,
}

/// Posts through REST at `rate` messages a second in all, round-robin over the rooms and the
/// command APIs.
pub struct RestLoad {
    pub http: reqwest::Client,
    pub apis: Vec<String>,
    pub rooms: Vec<Room>,
    pub rate: f64,
    pub ledger: Ledger,
    /// Requests under way, per command API.
    pub in_flight: Arc<Vec<AtomicUsize>>,
}

impl RestLoad {
    pub async fn run(self, phase: Phase, stop: CancellationToken) {
        let this = Arc::new(self);
        let posts = TaskTracker::new();
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / this.rate));
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut count = 0usize;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let Some(phase) = *phase.borrow() else {
                continue;
            };
            let room = count % this.rooms.len();
            let api = (count / this.rooms.len()) % this.apis.len();
            let key = key(phase, room, "rest", count);
            count += 1;
            this.ledger.sending(&key, room, phase);
            posts.spawn(this.clone().post(room, api, key));
        }
        posts.close();
        posts.wait().await;
    }

    /// Posts `key` until acknowledged, moving to the next command API after each failure.
    async fn post(self: Arc<Self>, room: usize, mut api: usize, key: String) {
        let started = Instant::now();
        let mut pause = FIRST_PAUSE;
        let room = &self.rooms[room];
        let body = json!({"content": key, "client_msg_id": key});
        loop {
            self.in_flight[api].fetch_add(1, Ordering::Relaxed);
            let answer = self
                .http
                .post(format!("{}/rooms/{}/messages", self.apis[api], room.id))
                .bearer_auth(&room.poster)
                .json(&body)
                .send()
                .await;
            self.in_flight[api].fetch_sub(1, Ordering::Relaxed);
            if let Some(seq) = acknowledged(answer).await {
                self.ledger.acked(&key, seq);
                return;
            }
            if started.elapsed() > GIVE_UP || key.ends_with(ONCE) {
                self.ledger.abandoned(&key);
                return;
            }
            api = (api + 1) % self.apis.len();
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }
}

/// The sequence a successful post answered with.
async fn acknowledged(answer: reqwest::Result<reqwest::Response>) -> Option<i64> {
    let response = answer.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let message: Value = response.json().await.ok()?;
    message["seq"].as_i64()
}

/// One room's sender on a v2 socket: `rate` messages a second while a phase runs, several in
/// flight at once, each sent again after a refusal or, in order, on the next socket when the
/// socket fails before its acknowledgement came.
pub struct WsSender {
    pub room: usize,
    /// The socket URL of the room on each node.
    pub urls: Vec<String>,
    pub home: usize,
    pub rate: f64,
    pub ledger: Ledger,
}

/// A sender's messages not yet acknowledged.
#[derive(Default)]
struct Outstanding {
    /// Sent on the current socket, oldest first: acks come in this order.
    on_socket: VecDeque<String>,
    /// To send (again) on the next chance, in order.
    to_send: VecDeque<String>,
    /// Refused for now (say, the database was away): sent again at the given instant.
    refused: VecDeque<(Instant, String)>,
}

impl Outstanding {
    /// The socket is gone: whatever it carried unanswered goes first on the next one, but what
    /// its client sends only once.
    fn socket_lost(&mut self, ledger: &Ledger) {
        while let Some(key) = self.on_socket.pop_back() {
            if key.ends_with(ONCE) {
                ledger.abandoned(&key);
            } else {
                self.to_send.push_front(key);
            }
        }
    }

    fn forget(&mut self, key: &str) {
        self.on_socket.retain(|sent| sent != key);
        self.to_send.retain(|sent| sent != key);
        self.refused.retain(|(_, sent)| sent != key);
    }

    fn keys(&self) -> Vec<String> {
        let refused = self.refused.iter().map(|(_, key)| key);
        self.on_socket
            .iter()
            .chain(&self.to_send)
            .chain(refused)
            .cloned()
            .collect()
    }
}

impl WsSender {
    pub async fn run(
        self,
        phase: Phase,
        mut go_home: watch::Receiver<u64>,
        stop: CancellationToken,
    ) {
        let mut outstanding = Outstanding::default();
        let mut node = self.home;
        let mut pause = FIRST_PAUSE;
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / self.rate));
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut count = 0usize;
        'connecting: loop {
            let connected = tokio::select! {
                () = stop.cancelled() => break,
                connected = tokio::time::timeout(CONNECT_WITHIN, ws_rig::connect(&self.urls[node])) => connected,
            };
            let Ok(Ok(ws)) = connected else {
                node = (node + 1) % self.urls.len();
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
                self.give_up_stale(&mut outstanding);
                continue;
            };
            pause = FIRST_PAUSE;
            let (mut sink, mut stream) = ws.split();
            go_home.mark_unchanged();
            loop {
                // Whatever waits goes out first, in order.
                self.requeue_refused(&mut outstanding);
                while let Some(key) = outstanding.to_send.pop_front() {
                    let frame = json!({"type": "send", "content": key, "client_msg_id": key});
                    if sink
                        .send(Message::Text(frame.to_string().into()))
                        .await
                        .is_err()
                    {
                        outstanding.to_send.push_front(key);
                        outstanding.socket_lost(&self.ledger);
                        node = (node + 1) % self.urls.len();
                        continue 'connecting;
                    }
                    outstanding.on_socket.push_back(key);
                }
                let away = node != self.home;
                tokio::select! {
                    () = stop.cancelled() => {
                        let _ = sink.close().await;
                        break 'connecting;
                    }
                    Ok(()) = go_home.changed(), if away => {
                        let _ = sink.close().await;
                        outstanding.socket_lost(&self.ledger);
                        node = self.home;
                        continue 'connecting;
                    }
                    _ = tick.tick() => {
                        self.give_up_stale(&mut outstanding);
                        if let Some(phase) = *phase.borrow() {
                            let key = key(phase, self.room, "ws", count);
                            count += 1;
                            self.ledger.sending(&key, self.room, phase);
                            outstanding.to_send.push_back(key);
                        }
                    }
                    frame = stream.next() => match frame {
                        Some(Ok(Message::Text(text))) => self.answered(text.as_str(), &mut outstanding),
                        Some(Ok(Message::Close(_)) | Err(_)) | None => {
                            outstanding.socket_lost(&self.ledger);
                            node = (node + 1) % self.urls.len();
                            continue 'connecting;
                        }
                        Some(Ok(_)) => {}
                    },
                }
            }
        }
        for key in outstanding.keys() {
            self.ledger.abandoned(&key);
        }
    }

    /// An ack settles its send; a refusal of one sends it again shortly.
    fn answered(&self, frame: &str, outstanding: &mut Outstanding) {
        let is_ack = frame.starts_with("{\"type\":\"ack\"");
        let is_error = frame.starts_with("{\"type\":\"error\"");
        if !is_ack && !is_error {
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(frame) else {
            return;
        };
        let Some(key) = value["client_msg_id"].as_str() else {
            return;
        };
        outstanding.forget(key);
        if is_ack {
            if let Some(seq) = value["seq"].as_i64() {
                self.ledger.acked(key, seq);
            }
        } else if key.ends_with(ONCE) {
            self.ledger.abandoned(key);
        } else {
            let again = Instant::now() + Duration::from_millis(200);
            outstanding.refused.push_back((again, key.to_owned()));
        }
    }

    fn requeue_refused(&self, outstanding: &mut Outstanding) {
        let now = Instant::now();
        while outstanding
            .refused
            .front()
            .is_some_and(|(due, _)| *due <= now)
        {
            let (_, key) = outstanding.refused.pop_front().expect("just seen");
            outstanding.to_send.push_back(key);
        }
    }

    /// Gives up the messages that went unacknowledged for [`GIVE_UP`].
    fn give_up_stale(&self, outstanding: &mut Outstanding) {
        let stale: Vec<String> = {
            let messages = self.ledger.lock();
            outstanding
                .keys()
                .into_iter()
                .filter(|key| {
                    messages
                        .by_key
                        .get(key)
                        .is_some_and(|sent| sent.first_sent.elapsed() > GIVE_UP)
                })
                .collect()
        };
        for key in stale {
            outstanding.forget(&key);
            self.ledger.abandoned(&key);
        }
    }
}
