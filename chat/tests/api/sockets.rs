//! Real WebSocket clients for the stories: connect, read frames with a deadline, send.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

/// Longest wait for a frame that should come; generous for a loaded machine.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// `v1` or `v2`, as the URL asked, for the record of frames.
    dialect: &'static str,
}

/// Names the file every frame the server sends is appended to, one JSON line each with the
/// socket's dialect (`{"dialect", "frame"}` or `{"dialect", "close"}`). `make test-asyncapi`
/// runs the WebSocket stories with it and checks each frame against `openapi/asyncapi.yaml`.
const FRAMES_RECORD: &str = "CHAT_WS_FRAMES";

/// Appends `record` to the frames file, if one is named, unless this process recorded the same
/// one already (a room's frame reaches each of its sockets alike; one check of it is enough).
/// One write per line: the stories run in many processes at once, and appends of one write
/// each do not interleave.
fn record(record: Value) {
    static RECORDED: LazyLock<Mutex<HashSet<u64>>> = LazyLock::new(Default::default);
    let Some(path) = std::env::var_os(FRAMES_RECORD) else {
        return;
    };
    let mut line = record.to_string();
    let mut hasher = DefaultHasher::new();
    line.hash(&mut hasher);
    if !RECORDED.lock().unwrap().insert(hasher.finish()) {
        return;
    }
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("the frames record opens");
    std::io::Write::write_all(&mut file, line.as_bytes()).expect("a frame is recorded");
}

fn dialect_of(url: &str) -> &'static str {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    if query.split('&').any(|pair| pair == "v=2") {
        "v2"
    } else {
        "v1"
    }
}

/// What the server sent, as far as the stories care.
#[derive(Debug)]
pub enum Frame {
    Json(Value),
    Close(u16, String),
    /// The connection ended without a close frame.
    Ended,
}

impl TestApp {
    pub fn ws_url(&self, room_id: &str, query: &str) -> String {
        let host = self.address.trim_start_matches("http://");
        format!("ws://{host}/ws/{room_id}?{query}")
    }

    /// Opens a socket on the room (`query` after the token, e.g. `v=2&since=4`) without waiting
    /// for it to be admitted.
    pub async fn open_socket(&self, room_id: &str, token: &str, query: &str) -> Socket {
        Socket::connect(&self.ws_url(room_id, &format!("token={token}&{query}"))).await
    }

    /// Opens a socket and waits until it is live (its own arrival announced to it).
    pub async fn socket(&self, room_id: &str, token: &str, query: &str) -> Socket {
        let mut socket = self.open_socket(room_id, token, query).await;
        socket.ready(query.contains("v=2")).await;
        socket
    }
}

impl Socket {
    pub async fn connect(url: &str) -> Self {
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("WebSocket handshake");
        Self::from_stream(stream, url)
    }

    /// A socket already opened on `url`.
    pub fn from_stream(stream: WebSocketStream<MaybeTlsStream<TcpStream>>, url: &str) -> Self {
        Self {
            stream,
            dialect: dialect_of(url),
        }
    }

    /// Reads until the socket is live and answers the frames that came first (a resume's).
    pub async fn ready(&mut self, json_dialect: bool) -> Vec<Value> {
        let mut before = Vec::new();
        loop {
            let frame = self.json().await;
            let live = if json_dialect {
                frame["type"] == "presence"
            } else {
                frame["type"] == "system"
                    && frame["content"].as_str().unwrap_or("").ends_with(" joined")
            };
            if live {
                return before;
            }
            before.push(frame);
        }
    }

    /// The next frame (pings and pongs are the socket library's business).
    pub async fn frame(&mut self) -> Frame {
        self.frame_within(WAIT)
            .await
            .expect("no frame arrived in time")
    }

    /// The next frame, or `None` when nothing came within `wait`.
    pub async fn frame_within(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            return Some(match next {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value =
                        serde_json::from_str(text.as_str()).expect("frames are JSON");
                    record(json!({"dialect": self.dialect, "frame": frame}));
                    Frame::Json(frame)
                }
                Some(Ok(Message::Close(Some(close)))) => {
                    let code = u16::from(close.code);
                    record(json!({"dialect": self.dialect, "close": code}));
                    Frame::Close(code, close.reason.to_string())
                }
                Some(Ok(Message::Close(None))) => {
                    Frame::Close(u16::from(CloseCode::Status), "".into())
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => panic!("unexpected frame {other:?}"),
                Some(Err(_)) | None => Frame::Ended,
            });
        }
    }

    /// The next frame, which must be a JSON one.
    pub async fn json(&mut self) -> Value {
        match self.frame().await {
            Frame::Json(value) => value,
            other => panic!("expected a JSON frame, got {other:?}"),
        }
    }

    /// Reads frames until one of type `kind`, and answers it.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.json().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Every frame up to and including the one `last` picks.
    pub async fn frames_until(&mut self, mut last: impl FnMut(&Value) -> bool) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let frame = self.json().await;
            let done = last(&frame);
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    /// The close frame, which must be the next frame.
    pub async fn close_frame(&mut self) -> (u16, String) {
        match self.frame().await {
            Frame::Close(code, reason) => (code, reason),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }

    /// The close frame, after whatever other frames come first.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            match self.frame().await {
                Frame::Json(_) => {}
                Frame::Close(code, reason) => return (code, reason),
                Frame::Ended => panic!("the connection ended without a close frame"),
            }
        }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("send a text frame");
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    pub async fn send_binary(&mut self, data: Vec<u8>) {
        self.stream
            .send(Message::Binary(data.into()))
            .await
            .expect("send a binary frame");
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// The `seq`s of the message frames among `frames`, in arrival order.
pub fn message_seqs(frames: &[Value]) -> Vec<i64> {
    frames
        .iter()
        .filter(|frame| frame["type"] == "message")
        .map(|frame| frame["seq"].as_i64().expect("a message carries its seq"))
        .collect()
}

/// The contents of the message frames among `frames`, in arrival order.
pub fn message_contents(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter(|frame| frame["type"] == "message")
        .map(|frame| frame["content"].as_str().unwrap().to_owned())
        .collect()
}

/// For [`Socket::frames_until`]: picks the frame by which `n` frames of each listed type have
/// arrived.
pub fn having(wanted: &[(&'static str, usize)]) -> impl FnMut(&Value) -> bool {
    let mut missing: Vec<(&'static str, usize)> = wanted.to_vec();
    move |frame| {
        for (kind, left) in &mut missing {
            if frame["type"] == *kind && *left > 0 {
                *left -= 1;
            }
        }
        missing.iter().all(|(_, left)| *left == 0)
    }
}

/// Sends `content` on a v2 socket and on a seed (v1) socket of the same room, and checks that
/// each dialect refuses it in its own way with `detail`: an `invalid_input` error naming the
/// send's `client_msg_id` on v2, a "Not sent" system notice on v1.
pub async fn assert_refused_in_both_dialects(
    json_socket: &mut Socket,
    seed: &mut Socket,
    content: &str,
    detail: &str,
) {
    json_socket
        .send_json(
            serde_json::json!({"type": "send", "content": content, "client_msg_id": "refused"}),
        )
        .await;
    let refused = json_socket.next_of("error").await;
    assert_eq!(
        (
            refused["code"].as_str(),
            refused["detail"].as_str(),
            refused["client_msg_id"].as_str()
        ),
        (Some("invalid_input"), Some(detail), Some("refused"))
    );
    seed.send_text(content).await;
    let notice = seed.json().await;
    assert_eq!(notice["type"], "system");
    assert_eq!(notice["content"], format!("Not sent: {detail}"));
}

impl TestApp {
    /// Joins the room as the holder of `token`.
    pub async fn join(&self, token: &str, room_id: &str, password: Option<&str>) {
        let response = self
            .post_json(
                &format!("/rooms/{room_id}/join"),
                Some(token),
                &serde_json::json!({ "password": password }),
            )
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
    }

    /// The room's latest sequence in the event store.
    pub async fn last_seq(&self, room_id: &str) -> i64 {
        self.sequences(room_id).await.last().copied().unwrap_or(0)
    }
}

/// Whether `frame` reports `username` among the users who `kind` ("joined" or "left").
pub fn presence_change(frame: &Value, kind: &str, username: &str) -> bool {
    frame["type"] == "presence_changed"
        && frame[kind]
            .as_array()
            .is_some_and(|users| users.iter().any(|user| user["username"] == username))
}
