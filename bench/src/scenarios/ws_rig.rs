//! What the WebSocket scenarios share: the two servers they compare (ours, as the harness
//! started it, and a bare axum broadcast server in a child process of this binary, so that each
//! one's memory can be read alone), clients with small buffers, the clock messages carry, and
//! percentiles.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use crate::{Target, Usage};

const PASSWORD: &str = "bench password";

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Which server a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chat,
    Baseline,
}

/// A server under load: ours, or the baseline (a child process, stopped by [`Server::stop`]).
pub struct Server {
    pub kind: Kind,
    /// `http://host:port`.
    base: String,
    pid: Option<u32>,
    child: Option<Child>,
}

impl Server {
    pub fn chat(target: &Target) -> Self {
        Self {
            kind: Kind::Chat,
            base: target.url.clone(),
            pid: target.pid,
            child: None,
        }
    }

    /// The bare broadcast server of [`super::ws_baseline`], started as `bench serve-ws-baseline`.
    pub async fn baseline() -> anyhow::Result<Self> {
        let address = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let child = Command::new(std::env::current_exe()?)
            .args(["serve-ws-baseline", &address.to_string()])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting the baseline server")?;
        let server = Self {
            kind: Kind::Baseline,
            base: format!("http://{address}"),
            pid: child.id(),
            child: Some(child),
        };
        for _ in 0..200 {
            if TcpStream::connect(address).await.is_ok() {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the baseline server did not start")
    }

    pub fn http(&self) -> &str {
        &self.base
    }

    /// The socket URL of a room (`query` without the token, which `token` adds).
    pub fn ws_url(&self, room: &str, token: Option<&str>, query: &str) -> String {
        let host = self.base.trim_start_matches("http://");
        let token = token.map(|t| format!("token={t}&")).unwrap_or_default();
        format!("ws://{host}/ws/{room}?{token}{query}")
    }

    /// What the server used so far; `None` for a server this run did not start.
    pub fn usage(&self) -> anyhow::Result<Option<Usage>> {
        self.pid.map(Usage::of).transpose()
    }

    /// Stops the baseline server, answering what it used (nothing for ours, which the harness
    /// stops and reads itself).
    pub async fn stop(self) -> Option<Usage> {
        let mut child = self.child?;
        let usage = self.pid.and_then(|pid| Usage::of(pid).ok());
        let _ = child.kill().await;
        usage
    }
}

/// A tag that keeps the names of one run apart from another's on the same system.
pub fn run_tag() -> String {
    Uuid::new_v4().simple().to_string()[..6].to_owned()
}

/// Signs users up and makes rooms through the real API of our server.
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(server: &Server) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: server.http().to_owned(),
        }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            bail!("{path} answered {status}: {body}");
        }
        Ok(body)
    }

    /// Registers `username` and answers its token.
    pub async fn user(&self, username: &str) -> anyhow::Result<String> {
        let credentials = json!({"username": username, "password": PASSWORD});
        self.post("/auth/register", None, credentials.clone())
            .await?;
        let login = self.post("/auth/login", None, credentials).await?;
        Ok(login["access_token"]
            .as_str()
            .context("no token")?
            .to_owned())
    }

    /// `count` users named `{prefix}{i}`, made `parallel` at a time.
    pub async fn users(&self, prefix: &str, count: usize) -> anyhow::Result<Vec<String>> {
        let names: Vec<_> = (0..count).map(|i| format!("{prefix}{i}")).collect();
        futures::stream::iter(names.iter().map(|name| self.user(name)))
            .buffered(32)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    pub async fn room(&self, token: &str, name: &str) -> anyhow::Result<String> {
        let room = self
            .post(
                "/rooms/",
                Some(token),
                json!({"name": name, "is_private": false}),
            )
            .await?;
        Ok(room["id"].as_str().context("no room id")?.to_owned())
    }

    /// Posts `content` to `room` through REST and answers its sequence.
    pub async fn message(&self, token: &str, room: &str, content: &str) -> anyhow::Result<i64> {
        let path = format!("/rooms/{room}/messages");
        let posted = self
            .post(&path, Some(token), json!({ "content": content }))
            .await?;
        posted["seq"]
            .as_i64()
            .context("no seq in the posted message")
    }

    pub async fn join_all(&self, room: &str, tokens: &[String]) -> anyhow::Result<()> {
        let path = format!("/rooms/{room}/join");
        futures::stream::iter(
            tokens
                .iter()
                .map(|token| self.post(&path, Some(token), json!({}))),
        )
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(())
    }
}

/// A client socket with small buffers, as a server's would be: 15,000 of them fit in memory.
pub async fn connect(url: &str) -> anyhow::Result<Ws> {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    Ok(ws)
}

/// Opens a socket and, on our server, waits until it is live: its presence frame (v2) or its
/// first notice (v1, whose first frame tells of arrivals once the socket is in the room) came.
pub async fn subscribe(kind: Kind, url: &str) -> anyhow::Result<Ws> {
    let mut ws = connect(url).await?;
    if kind == Kind::Chat {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text)))
                    if text.as_str().contains("\"type\":\"presence\"")
                        || text.as_str().contains("\"type\":\"system\"") =>
                {
                    break
                }
                Some(Ok(Message::Close(frame))) => bail!("refused: {frame:?}"),
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error.into()),
                None => bail!("closed before it was live"),
            }
        }
    }
    Ok(ws)
}

/// Opens `urls.len()` sockets, `parallel` handshakes at a time; answers them and the time taken.
pub async fn open_many(
    kind: Kind,
    urls: Vec<String>,
    parallel: usize,
) -> anyhow::Result<(Vec<Ws>, Duration)> {
    let gate = Arc::new(Semaphore::new(parallel));
    let bar = super::progress(urls.len() as u64, "opening sockets");
    let started = Instant::now();
    let tasks: Vec<_> = urls
        .into_iter()
        .map(|url| {
            let gate = gate.clone();
            let bar = bar.clone();
            tokio::spawn(async move {
                let _turn = gate.acquire_owned().await?;
                let socket = subscribe(kind, &url).await;
                bar.inc(1);
                socket
            })
        })
        .collect();
    let mut sockets = Vec::with_capacity(tasks.len());
    for task in tasks {
        sockets.push(task.await??);
    }
    let took = started.elapsed();
    bar.finish_and_clear();
    Ok((sockets, took))
}

/// The send time carried by a message frame (ours or the baseline's), in microseconds since the
/// epoch, without parsing the whole frame.
pub fn stamp_of(frame: &str) -> Option<u64> {
    let start = frame.find("\"content\":\"")? + "\"content\":\"".len();
    let digits = &frame[start..];
    let end = digits.find(' ')?;
    digits[..end].parse().ok()
}

/// The send time an ack of ours carries back in its `client_msg_id`.
pub fn acked_stamp(frame: &str) -> Option<u64> {
    if !frame.starts_with("{\"type\":\"ack\"") {
        return None;
    }
    let start = frame.find("\"client_msg_id\":\"")? + "\"client_msg_id\":\"".len();
    let rest = &frame[start..];
    rest[..rest.find('"')?].parse().ok()
}

/// The `seq` of one of our message frames.
pub fn seq_of(frame: &str) -> Option<i64> {
    let start = frame.find("\"seq\":")? + "\"seq\":".len();
    let rest = &frame[start..];
    let end = rest.find([',', '}'])?;
    rest[..end].parse().ok()
}

/// Sends `text` as a message in the server's dialect: a v2 send frame to ours (its
/// `client_msg_id` the send time, which the ack echoes), plain text to the baseline.
pub async fn send_message(
    kind: Kind,
    ws: &mut (impl SinkExt<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin),
    stamp: u64,
    text: String,
) -> anyhow::Result<()> {
    let frame = match kind {
        Kind::Chat => {
            json!({"type": "send", "content": text, "client_msg_id": stamp.to_string()}).to_string()
        }
        Kind::Baseline => text,
    };
    ws.send(Message::Text(frame.into())).await?;
    Ok(())
}

/// p50, p90, p99 and max of latencies in microseconds, in milliseconds.
pub fn percentiles(samples: &mut [u32]) -> [f64; 4] {
    if samples.is_empty() {
        return [f64::NAN; 4];
    }
    samples.sort_unstable();
    let at = |fraction: f64| {
        let index = ((samples.len() as f64 * fraction).ceil() as usize).clamp(1, samples.len()) - 1;
        f64::from(samples[index]) / 1000.0
    };
    [at(0.50), at(0.90), at(0.99), at(1.0)]
}
