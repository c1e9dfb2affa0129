//! The real `chat` binary as an operator starts it: a [`Deployment`] is one database and one bus
//! with any number of processes on them, each started as its subcommand (`chat command-api`,
//! `chat fanout`, ...) with its settings in its environment, as `deploy/docker-compose.yml` starts
//! them. For the stories about whole processes: roles apart, how they stop on a signal, their
//! exit code, what they log.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use sqlx::PgPool;
use testkit::BusCleanup;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::child_log::{self, Lines};
use crate::helpers::{client_of, TestApp};

/// How long a process may take to start serving.
const START_WITHIN: Duration = Duration::from_secs(30);

/// What every process of a test deployment runs with, before its own settings: the tests' signing
/// key, the cheapest bcrypt cost, no rate limits, and pools small enough that several processes
/// of several tests fit in the 100 connections PostgreSQL allows.
const COMMON_ENV: [(&str, &str); 10] = [
    ("CHAT_JWT_SECRET", testkit::JWT_SECRET),
    ("CHAT_BCRYPT_COST", "4"),
    ("CHAT_LOGIN_RATE", "0"),
    ("CHAT_SEND_RATE", "0"),
    ("CHAT_DB_POOL_COMMANDS", "2"),
    ("CHAT_DB_POOL_QUERIES", "2"),
    ("CHAT_DB_POOL_PROJECTOR", "1"),
    ("CHAT_DB_POOL_FANOUT", "1"),
    ("CHAT_WEB_DIR", "/nonexistent"),
    ("AMQP_URL", testkit::AMQP_URL),
];

/// One database and one bus prefix of its own; its processes are started with [`Deployment::start`].
pub struct Deployment {
    pub database_url: String,
    /// A pool on the database, for the stories' own looks at it.
    pub pool: PgPool,
    _bus: BusCleanup,
}

impl Deployment {
    /// A fresh, migrated database, and the bus prefix its processes will use (the database's
    /// name), whose queues are deleted when the deployment is dropped.
    pub async fn new() -> Self {
        let (database_url, pool) = testkit::fresh_database().await;
        let bus = bus::BusConfig::new(
            testkit::AMQP_URL,
            bus::BusConfig::default_prefix(&database_url),
        );
        Self {
            database_url,
            pool,
            _bus: BusCleanup(bus),
        }
    }

    /// Starts `chat <role>` on a port of its own with `env` added to (or overriding) the
    /// deployment's settings, and waits until it is ready.
    ///
    /// The process binds port 0 and the test reads the port it got from its log: a port probed
    /// free beforehand can be taken by another test's process in between, and that process would
    /// then answer for this one.
    pub async fn start(&self, role: &str, env: &[(&str, &str)]) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat"))
            .arg(role)
            .env_remove("RUST_LOG")
            .envs(COMMON_ENV)
            .env("DATABASE_URL", &self.database_url)
            .env("CHAT_LISTEN", "127.0.0.1:0")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start chat");
        let stderr = child.stderr.take().expect("piped stderr");
        let (log, reading_log, address) = child_log::gather(stderr, served_address);
        let address = tokio::time::timeout(START_WITHIN, address).await;
        let Ok(Ok(address)) = address else {
            panic!(
                "chat {role} did not start serving; its log:\n{}",
                log.lock().unwrap().join("\n")
            );
        };
        let app = client_of(format!("http://{address}"), &self.pool, &self.database_url);
        let node = Node {
            role: role.to_owned(),
            app,
            child,
            log,
            reading_log,
        };
        node.serving().await;
        node
    }
}

/// The address in the line every role logs once it has bound its listener
/// (`serving on http://127.0.0.1:41234 ...`), if `line` is that line.
fn served_address(line: &str) -> Option<String> {
    let (_, after) = line.split_once("serving ")?;
    let (_, address) = after.split_once("on http://")?;
    let address: String = address
        .chars()
        .take_while(|character| character.is_ascii_digit() || matches!(character, '.' | ':'))
        .collect();
    (!address.is_empty()).then_some(address)
}

/// One `chat` process of a deployment.
pub struct Node {
    pub role: String,
    /// A client of the process.
    pub app: TestApp,
    child: Child,
    /// Every line the process wrote to stderr (its log), gathered until it exits.
    log: Lines,
    reading_log: JoinHandle<()>,
}

impl Node {
    /// Waits until the process answers `/readyz` with 200: it serves, and every dependency it
    /// needs answers.
    async fn serving(&self) {
        let deadline = Instant::now() + START_WITHIN;
        while !self.is_ready().await {
            assert!(
                Instant::now() < deadline,
                "chat {} did not become ready; its log:\n{}",
                self.role,
                self.log_so_far().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn is_ready(&self) -> bool {
        let answer = self.app.client.get(self.app.url("/readyz")).send().await;
        answer.is_ok_and(|response| response.status().is_success())
    }

    /// Sends the process SIGTERM, as Docker, systemd and Kubernetes stop one.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Kills the process with SIGKILL: no chance to stop in order.
    pub fn kill(&self) {
        self.signal("KILL");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("a running process").to_string();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{signal} {pid}");
    }

    /// Waits (up to `within`) for the process to exit; answers how, and how long it took.
    pub async fn exited(&mut self, within: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("chat {} still running {within:?} later", self.role))
            .expect("the exit status");
        (status, started.elapsed())
    }

    /// The lines logged so far, while the process may still run.
    pub fn log_so_far(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Every line logged, once the process has exited.
    pub async fn log(self) -> Vec<String> {
        self.reading_log.await.expect("the log reader");
        let log = self.log.lock().unwrap();
        log.clone()
    }
}

/// Runs `chat <args>` on a fresh database with `env` (and none of the deployment's settings, so
/// the environment decides), which must exit on its own within 30 s; answers how it exited and
/// what it wrote to stderr.
pub async fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String) {
    let (database_url, _) = testkit::fresh_database().await;
    let output = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(args)
        .args(["--listen", "127.0.0.1:0", "--web-dir", "/nonexistent"])
        .env_remove("RUST_LOG")
        .env("DATABASE_URL", &database_url)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .expect("chat exited on its own")
        .expect("run chat");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
