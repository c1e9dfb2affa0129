//! Subscribers as a careful client is written: a v2 socket on one room through a home fan-out
//! node; when the socket fails, straight to another node with `since=<last seq>`, backing off
//! only when no node answers; back home when told the home node is up again.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::ledger::Inbox;
use crate::scenarios::ws_rig;

/// The longest pause between attempts when no node answers.
const LONGEST_PAUSE: Duration = Duration::from_secs(1);
/// How long a handshake may take before the node counts as not answering.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(5);

/// Why subscribers' sockets ended without being asked to, and how often: a close code with its
/// reason, or the connection lost.
#[derive(Clone, Default)]
pub struct SocketEnds(Arc<Mutex<BTreeMap<String, u64>>>);

impl SocketEnds {
    fn record(&self, why: String) {
        *self.0.lock().expect("poisoned").entry(why).or_default() += 1;
    }

    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.0.lock().expect("poisoned").clone()
    }
}

pub struct Subscriber {
    pub inbox: Inbox,
    /// The socket URL of the room on each node, without `since`.
    pub urls: Vec<String>,
    pub home: usize,
    pub ends: SocketEnds,
}

/// How the run steers the subscribers.
pub struct Steering {
    /// Bumped when every node is up: subscribers away from home go back.
    pub go_home: watch::Receiver<u64>,
    pub stop: CancellationToken,
}

enum Ended {
    Stopped,
    GoingHome,
    Failed(String),
}

impl Subscriber {
    /// Keeps a socket open on the room until told to stop, recording every room event.
    pub async fn run(self, mut steering: Steering) {
        let mut node = self.home;
        let mut pause = Duration::from_millis(50);
        loop {
            let url = format!("{}&since={}", self.urls[node], self.inbox.last_seq());
            let connected = tokio::select! {
                () = steering.stop.cancelled() => return,
                connected = tokio::time::timeout(CONNECT_WITHIN, ws_rig::connect(&url)) => connected,
            };
            let Ok(Ok(ws)) = connected else {
                node = (node + 1) % self.urls.len();
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
                continue;
            };
            pause = Duration::from_millis(50);
            let away = node != self.home;
            match self.read(ws, &mut steering, away).await {
                Ended::Stopped => return,
                Ended::GoingHome => node = self.home,
                Ended::Failed(why) => {
                    self.ends.record(why);
                    node = (node + 1) % self.urls.len();
                }
            }
        }
    }

    async fn read(&self, mut ws: ws_rig::Ws, steering: &mut Steering, away: bool) -> Ended {
        steering.go_home.mark_unchanged();
        loop {
            let frame = tokio::select! {
                () = steering.stop.cancelled() => {
                    let _ = ws.close(None).await;
                    return Ended::Stopped;
                }
                Ok(()) = steering.go_home.changed(), if away => {
                    let _ = ws.close(None).await;
                    return Ended::GoingHome;
                }
                frame = ws.next() => frame,
            };
            match frame {
                Some(Ok(Message::Text(text))) => self.take(text.as_str()),
                Some(Ok(Message::Close(Some(close)))) => {
                    return Ended::Failed(format!(
                        "closed {} ({})",
                        u16::from(close.code),
                        close.reason
                    ))
                }
                Some(Ok(Message::Close(None))) => return Ended::Failed("closed".into()),
                Some(Err(_)) | None => return Ended::Failed("connection lost".into()),
                Some(Ok(_)) => {}
            }
        }
    }

    /// Records a room event (a frame with a `seq`); presence and the rest are not history.
    fn take(&self, frame: &str) {
        if !frame.contains("\"seq\":") {
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(frame) else {
            return;
        };
        if value["type"] == "ack" {
            return;
        }
        if let Some(seq) = value["seq"].as_i64() {
            let key = value["client_msg_id"].as_str().map(str::to_owned);
            self.inbox.record(seq, key);
        }
    }
}
