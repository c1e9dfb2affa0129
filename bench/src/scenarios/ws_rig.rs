//! What the WebSocket scenarios share: the two servers they compare (ours, `chat all` on a fresh
//! database, and a bare axum broadcast server), each in a child process of this binary so its
//! memory can be read alone; clients with small buffers; the clock messages carry; figures.

use std::net::{SocketAddr, TcpListener};
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

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
const PASSWORD: &str = "bench password";

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Which server a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chat,
    Baseline,
}

/// A server in a child process, stopped (and its database dropped) by [`Server::stop`].
pub struct Server {
    pub kind: Kind,
    pub addr: SocketAddr,
    child: Child,
    database: Option<String>,
}

impl Server {
    /// `chat all` on a new database, rate limits off, bcrypt at its cheapest.
    pub async fn chat() -> anyhow::Result<Self> {
        let database = format!("chat_bench_ws_{}", Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(ADMIN_URL).await?;
        sqlx::query(&format!(r#"CREATE DATABASE "{database}""#))
            .execute(&admin)
            .await?;
        admin.close().await;
        let url = format!("postgres://postgres@127.0.0.1:5432/{database}?sslmode=disable");
        let addr = free_address()?;
        let listen = addr.to_string();
        let args = [
            "serve-chat",
            "all",
            "--database-url",
            &url,
            "--listen",
            &listen,
            "--jwt-secret",
            "bench-secret",
            "--bcrypt-cost",
            "4",
            "--login-rate",
            "0",
            "--send-rate",
            "0",
            "--web-dir",
            "/nonexistent",
        ];
        let child = spawn_self(&args)?;
        let server = Self {
            kind: Kind::Chat,
            addr,
            child,
            database: Some(database),
        };
        server.wait_until_serving().await?;
        Ok(server)
    }

    /// The bare broadcast server of [`super::ws_baseline`].
    pub async fn baseline() -> anyhow::Result<Self> {
        let addr = free_address()?;
        let child = spawn_self(&["serve-baseline", &addr.to_string()])?;
        let server = Self {
            kind: Kind::Baseline,
            addr,
            child,
            database: None,
        };
        server.wait_until_serving().await?;
        Ok(server)
    }

    async fn wait_until_serving(&self) -> anyhow::Result<()> {
        for _ in 0..600 {
            if TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the {:?} server did not start", self.kind)
    }

    pub fn http(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket URL of a room (`query` without the token, which `token` adds).
    pub fn ws_url(&self, room: &str, token: Option<&str>, query: &str) -> String {
        let token = token.map(|t| format!("token={t}&")).unwrap_or_default();
        format!("ws://{}/ws/{room}?{token}{query}", self.addr)
    }

    /// The server's resident memory, in bytes.
    pub fn rss(&self) -> anyhow::Result<u64> {
        let pid = self.child.id().context("the server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS in /proc status")?;
        Ok(kib * 1024)
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = self.child.kill().await;
        if let Some(database) = self.database.take() {
            let admin = sqlx::PgPool::connect(ADMIN_URL).await?;
            sqlx::query(&format!(
                r#"DROP DATABASE IF EXISTS "{database}" WITH (FORCE)"#
            ))
            .execute(&admin)
            .await?;
        }
        Ok(())
    }
}

fn spawn_self(args: &[&str]) -> anyhow::Result<Child> {
    Command::new(std::env::current_exe()?)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting a server process")
}

fn free_address() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
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
            base: server.http(),
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

/// Opens a socket and, on our server, waits until it is live (its presence frame came).
pub async fn subscribe(kind: Kind, url: &str) -> anyhow::Result<Ws> {
    let mut ws = connect(url).await?;
    if kind == Kind::Chat {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text)))
                    if text.as_str().contains("\"type\":\"presence\"") =>
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
    let started = Instant::now();
    let tasks: Vec<_> = urls
        .into_iter()
        .map(|url| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _turn = gate.acquire_owned().await?;
                subscribe(kind, &url).await
            })
        })
        .collect();
    let mut sockets = Vec::with_capacity(tasks.len());
    for task in tasks {
        sockets.push(task.await??);
    }
    Ok((sockets, started.elapsed()))
}

/// The send time carried by a message frame (ours or the baseline's), in microseconds since the
/// epoch, without parsing the whole frame.
pub fn stamp_of(frame: &str) -> Option<u64> {
    let start = frame.find("\"content\":\"")? + "\"content\":\"".len();
    let digits = &frame[start..];
    let end = digits.find(' ')?;
    digits[..end].parse().ok()
}

/// The `seq` of one of our message frames.
pub fn seq_of(frame: &str) -> Option<i64> {
    let start = frame.find("\"seq\":")? + "\"seq\":".len();
    let rest = &frame[start..];
    let end = rest.find([',', '}'])?;
    rest[..end].parse().ok()
}

/// Sends `text` as a message in the server's dialect: a v2 send frame to ours, plain text to the
/// baseline.
pub async fn send_message(
    kind: Kind,
    ws: &mut (impl SinkExt<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin),
    text: String,
) -> anyhow::Result<()> {
    let frame = match kind {
        Kind::Chat => json!({"type": "send", "content": text}).to_string(),
        Kind::Baseline => text,
    };
    ws.send(Message::Text(frame.into())).await?;
    Ok(())
}

/// p50, p99 and max of latencies in microseconds, in milliseconds.
pub fn percentiles(samples: &mut [u32]) -> (f64, f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    samples.sort_unstable();
    let at = |fraction: f64| {
        let index = ((samples.len() as f64 * fraction).ceil() as usize).clamp(1, samples.len()) - 1;
        f64::from(samples[index]) / 1000.0
    };
    (at(0.50), at(0.99), at(1.0))
}

/// One line of a scenario's table: ours beside the baseline, and the goal.
pub fn row(figure: &str, ours: String, baseline: String, goal: &str) {
    println!("| {figure} | {ours} | {baseline} | {goal} |");
}

pub fn table_head(title: &str) {
    println!("\n### {title}\n");
    println!("| figure | chat | baseline (bare axum broadcast) | goal |");
    println!("|---|---|---|---|");
}
