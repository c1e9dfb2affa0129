//! The system under faults: each role its own `chat` process, as in production, on a fresh
//! database and bus prefix, every process reaching the broker through a proxy that can cut it.
//! Processes are killed with SIGKILL and started again on the same port; their logs go to one
//! file each, kept for whoever investigates a failure.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use testkit::{TcpProxy, ADMIN_URL, AMQP_URL};
use tokio::process::{Child, Command};
use tokio::time::Instant;
use uuid::Uuid;

use crate::system::{chat_binary, free_port, BENCH_SETTINGS};

/// How long a process may take to be ready after it was started.
const START_WITHIN: Duration = Duration::from_secs(30);
/// How many ports a process is started on before the cluster gives up.
const PORT_ATTEMPTS: usize = 5;

/// Which processes run, and the pools each gets: PostgreSQL allows 100 connections for every
/// test and benchmark on the machine.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub command_apis: usize,
    pub fanouts: usize,
    pub projectors: usize,
    pub pool_commands: u32,
    pub pool_queries: u32,
    pub pool_projector: u32,
    pub pool_fanout: u32,
}

/// A role of `chat` the cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    CommandApi,
    QueryApi,
    Projector,
    Fanout,
}

impl Role {
    fn subcommand(self) -> &'static str {
        match self {
            Role::CommandApi => "command-api",
            Role::QueryApi => "query-api",
            Role::Projector => "projector",
            Role::Fanout => "fanout",
        }
    }
}

/// One `chat` process: its role, name, port, and the child while it runs.
pub struct Process {
    pub role: Role,
    /// e.g. `fanout-2`; also its PostgreSQL `application_name` (prefixed `chat-`).
    pub name: String,
    port: u16,
    child: Option<Child>,
}

impl Process {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws_base(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    pub fn application_name(&self) -> String {
        format!("chat-{}", self.name)
    }
}

pub struct Cluster {
    pub database: String,
    pub database_url: String,
    pub prefix: String,
    pub proxy: TcpProxy,
    pub processes: Vec<Process>,
    /// A small pool of the harness's own on the run's database.
    pub pool: PgPool,
    pub logs: PathBuf,
    layout: Layout,
    http: reqwest::Client,
}

impl Cluster {
    /// Creates the database, applies the migrations, and starts every process of `layout`.
    pub async fn start(layout: Layout) -> anyhow::Result<Self> {
        let database = format!("chat_faults_{}", Uuid::new_v4().simple());
        let admin = PgPool::connect(ADMIN_URL).await?;
        sqlx::query(&format!(r#"CREATE DATABASE "{database}""#))
            .execute(&admin)
            .await?;
        admin.close().await;
        let database_url = format!("postgres://postgres@127.0.0.1:5432/{database}?sslmode=disable");
        let logs = std::env::temp_dir().join(&database);
        std::fs::create_dir_all(&logs)?;
        let migrated = Command::new(chat_binary()?)
            .arg("migrate")
            .env("DATABASE_URL", &database_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .status()
            .await
            .context("running chat migrate")?;
        if !migrated.success() {
            bail!("chat migrate failed: {migrated}");
        }
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&database_url)
            .await?;
        let mut processes = Vec::new();
        let mut add = |role: Role, name: String| -> anyhow::Result<()> {
            processes.push(Process {
                role,
                name,
                port: free_port()?,
                child: None,
            });
            Ok(())
        };
        for n in 1..=layout.command_apis {
            add(Role::CommandApi, format!("command-api-{n}"))?;
        }
        add(Role::QueryApi, "query-api".into())?;
        for n in 1..=layout.projectors {
            add(Role::Projector, format!("projector-{n}"))?;
        }
        for n in 1..=layout.fanouts {
            add(Role::Fanout, format!("fanout-{n}"))?;
        }
        let mut cluster = Self {
            prefix: database.clone(),
            database,
            database_url,
            proxy: TcpProxy::start("127.0.0.1:5672").await,
            processes,
            pool,
            logs,
            layout,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
        };
        let started = async {
            for index in 0..cluster.processes.len() {
                cluster.spawn(index)?;
            }
            for index in 0..cluster.processes.len() {
                cluster.wait_ready_on_a_free_port(index).await?;
            }
            Ok::<_, anyhow::Error>(())
        }
        .await;
        match started {
            Ok(()) => Ok(cluster),
            Err(error) => {
                let _ = cluster.stop(true).await;
                Err(error)
            }
        }
    }

    /// Indexes of the processes of `role`, in order.
    pub fn of(&self, role: Role) -> Vec<usize> {
        (0..self.processes.len())
            .filter(|&index| self.processes[index].role == role)
            .collect()
    }

    /// The base URLs of the processes of `role`.
    pub fn urls(&self, role: Role) -> Vec<String> {
        self.of(role)
            .into_iter()
            .map(|index| self.processes[index].url())
            .collect()
    }

    fn spawn(&mut self, index: usize) -> anyhow::Result<()> {
        let layout = self.layout;
        let amqp_url = testkit::amqp_url_through(&self.proxy);
        let process = &mut self.processes[index];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.join(format!("{}.log", process.name)))?;
        let database_url = format!(
            "{}&application_name={}",
            self.database_url,
            process.application_name()
        );
        let child = Command::new(chat_binary()?)
            .arg(process.role.subcommand())
            .env("DATABASE_URL", database_url)
            .env("AMQP_URL", amqp_url)
            .env("CHAT_BUS_PREFIX", &self.prefix)
            .env("CHAT_LISTEN", format!("127.0.0.1:{}", process.port))
            .envs(BENCH_SETTINGS)
            .env("CHAT_WEB_DIR", "/nonexistent")
            .env("CHAT_DB_POOL_COMMANDS", layout.pool_commands.to_string())
            .env("CHAT_DB_POOL_QUERIES", layout.pool_queries.to_string())
            .env("CHAT_DB_POOL_PROJECTOR", layout.pool_projector.to_string())
            .env("CHAT_DB_POOL_FANOUT", layout.pool_fanout.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", process.name))?;
        process.child = Some(child);
        Ok(())
    }

    /// Waits until a process started for the first time is ready. Its port was probed free, but
    /// another process may bind it first; then it exits, and is started again on another port.
    async fn wait_ready_on_a_free_port(&mut self, index: usize) -> anyhow::Result<()> {
        for _ in 1..PORT_ATTEMPTS {
            match self.wait_ready(index).await {
                Err(_) if self.lost_its_port(index)? => {
                    self.processes[index].port = free_port()?;
                    self.spawn(index)?;
                }
                ready => return ready,
            }
        }
        self.wait_ready(index).await
    }

    /// Whether the process exited because its port was taken (its log names the address).
    fn lost_its_port(&self, index: usize) -> anyhow::Result<bool> {
        let process = &self.processes[index];
        let log = std::fs::read_to_string(self.logs.join(format!("{}.log", process.name)))?;
        Ok(log.contains(&format!("binding 127.0.0.1:{}", process.port)))
    }

    /// Waits until the process is ready: every dependency of its role answers (`/readyz`). A
    /// fan-out node's bus queue is bound before it serves, so a socket admitted then receives
    /// every message committed after.
    async fn wait_ready(&mut self, index: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_WITHIN;
        loop {
            let log = self
                .logs
                .join(format!("{}.log", self.processes[index].name));
            let process = &mut self.processes[index];
            if let Some(child) = process.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "{} exited ({status}); its log: {}",
                        process.name,
                        log.display()
                    );
                }
            }
            let ready = self
                .http
                .get(format!("{}/readyz", process.url()))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} was not ready within {START_WITHIN:?}; its log: {}",
                    process.name,
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `kill -9`: the process gets no chance to finish anything.
    pub async fn kill(&mut self, index: usize) -> anyhow::Result<()> {
        let process = &mut self.processes[index];
        let mut child = process.child.take().context("the process is not running")?;
        child.start_kill()?;
        child.wait().await?;
        Ok(())
    }

    /// Starts a killed process again, on the same port, and waits until it is ready.
    pub async fn restart(&mut self, index: usize) -> anyhow::Result<()> {
        self.spawn(index)?;
        self.wait_ready(index).await
    }

    /// Waits until `application_name`'s process is inside a transaction (the projector: applying
    /// a batch), up to `within`; answers whether it was caught there.
    pub async fn in_transaction(&self, index: usize, within: Duration) -> bool {
        let name = self.processes[index].application_name();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let busy = sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE application_name = $1 AND xact_start IS NOT NULL AND state <> 'idle'",
            )
            .bind(&name)
            .fetch_one(&self.pool)
            .await
            .is_ok_and(|count| count > 0);
            if busy {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        false
    }

    /// Terminates every backend of the run's database but the one asking; answers how many.
    pub async fn terminate_backends(&self) -> anyhow::Result<i64> {
        let admin = PgPool::connect(ADMIN_URL).await?;
        let terminated = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM (
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()
             ) AS terminated",
        )
        .bind(&self.database)
        .fetch_one(&admin)
        .await?;
        admin.close().await;
        Ok(terminated)
    }

    /// `chat verify` on the run's database: its exit status and what it printed.
    pub async fn verify(&self) -> anyhow::Result<(bool, String)> {
        let output = Command::new(chat_binary()?)
            .arg("verify")
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .output()
            .await
            .context("running chat verify")?;
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok((output.status.success(), printed))
    }

    /// Stops every process, drops the database and the run's exchanges and queues, and the
    /// processes' logs unless told to keep them.
    pub async fn stop(mut self, keep_logs: bool) -> anyhow::Result<()> {
        for process in &mut self.processes {
            if let Some(mut child) = process.child.take() {
                let _ = child.kill().await;
            }
        }
        self.pool.close().await;
        let admin = PgPool::connect(ADMIN_URL).await?;
        sqlx::query(&format!(
            r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#,
            self.database
        ))
        .execute(&admin)
        .await?;
        bus::Topology::delete(&bus::BusConfig::new(AMQP_URL, &self.prefix)).await?;
        if keep_logs {
            println!("faults: the processes' logs are in {}", self.logs.display());
        } else {
            std::fs::remove_dir_all(&self.logs)?;
        }
        Ok(())
    }
}
