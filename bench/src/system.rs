//! The system under test: the real `chat all` binary in a child process, on a fresh database,
//! with rate limits off (and the socket caps per user and per address, since every client
//! connects from this one address); or a system someone else started.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use testkit::ADMIN_URL;
use tokio::process::{Child, Command};
use uuid::Uuid;

/// Where a scenario sends its load.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub database_url: String,
    /// The server's process, when the harness started it (its memory can then be read).
    pub pid: Option<u32>,
}

pub(crate) struct System {
    target: Target,
    managed: Option<Managed>,
}

struct Managed {
    child: Child,
    database: String,
}

/// What every `chat` process a benchmark starts runs with: the benchmark's signing key, the
/// cheapest bcrypt cost, and no rate or socket limits, since the scenarios are one client
/// address sending as fast as the system allows.
pub(crate) const BENCH_SETTINGS: [(&str, &str); 7] = [
    ("CHAT_JWT_SECRET", "bench-secret-long-enough-for-hs256"),
    ("CHAT_BCRYPT_COST", "4"),
    ("CHAT_SEND_RATE", "0"),
    ("CHAT_LOGIN_RATE", "0"),
    ("CHAT_ROOM_CREATE_RATE", "0"),
    ("CHAT_WS_MAX_PER_USER", "0"),
    ("CHAT_WS_MAX_PER_ADDRESS", "0"),
];

impl System {
    pub(crate) fn given(url: &str, database_url: &str) -> Self {
        Self {
            target: Target {
                url: url.trim_end_matches('/').to_owned(),
                database_url: database_url.to_owned(),
                pid: None,
            },
            managed: None,
        }
    }

    /// Starts `chat all` (the binary next to this one, or `CHAT_BIN`) on a new database.
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let database = format!("chat_bench_{}", Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(ADMIN_URL).await?;
        sqlx::query(&format!(r#"CREATE DATABASE "{database}""#))
            .execute(&admin)
            .await?;
        let database_url = format!("postgres://postgres@127.0.0.1:5432/{database}?sslmode=disable");
        let port = free_port()?;
        let child = Command::new(chat_binary()?)
            .arg("all")
            .env("DATABASE_URL", &database_url)
            .env("CHAT_LISTEN", format!("127.0.0.1:{port}"))
            .envs(BENCH_SETTINGS)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting chat")?;
        let system = Self {
            target: Target {
                url: format!("http://127.0.0.1:{port}"),
                database_url,
                pid: child.id(),
            },
            managed: Some(Managed { child, database }),
        };
        system.wait_until_serving().await?;
        Ok(system)
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    async fn wait_until_serving(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let probe = client
                .get(format!("{}/openapi.json", self.target.url))
                .send()
                .await;
            if probe.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("chat did not start serving within 10 s")
    }

    /// Stops the child and drops its database.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        if let Some(mut managed) = self.managed {
            managed.child.kill().await.ok();
            let admin = sqlx::PgPool::connect(ADMIN_URL).await?;
            let drop = format!(
                r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#,
                managed.database
            );
            sqlx::query(&drop).execute(&admin).await?;
        }
        Ok(())
    }
}

/// `CHAT_BIN`, else the `chat` binary built beside this one: benchmarks never rebuild it.
pub(crate) fn chat_binary() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("CHAT_BIN") {
        return Ok(path.into());
    }
    let here = std::env::current_exe()?;
    let beside = here.with_file_name("chat");
    if beside.exists() {
        return Ok(beside);
    }
    bail!(
        "no chat binary beside {}; build it (cargo build --release --bin chat) or set CHAT_BIN",
        here.display()
    )
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
