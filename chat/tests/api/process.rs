//! The real `chat` binary as an operator starts it, for the stories about a whole process: how
//! it stops on a signal, its exit code, what it logs.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use testkit::BusCleanup;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::helpers::{client_of, TestApp};

pub struct ChatProcess {
    child: Child,
    /// A client of the process, with a pool on its database.
    pub app: TestApp,
    /// Every line the process wrote to stderr (its log), gathered until it exits.
    log: Arc<Mutex<Vec<String>>>,
    reading_log: JoinHandle<()>,
    _bus: BusCleanup,
}

impl ChatProcess {
    /// Starts `chat <role>` on a fresh database with the tests' flags and `flags`, with `env`
    /// added to its environment, and waits until it answers HTTP.
    pub async fn start(role: &str, flags: &[&str], env: &[(&str, &str)]) -> Self {
        let (database_url, _) = testkit::fresh_database().await;
        let listen = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("its address").to_string()
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat"))
            .arg(role)
            .args(["--database-url", &database_url, "--listen", &listen])
            .args(["--web-dir", "/nonexistent"])
            .args(testkit::CHAT_FLAGS)
            .args(flags)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start chat");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let gathered = log.clone();
        let reading_log = tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                gathered.lock().unwrap().push(line);
            }
        });
        let app = client_of(format!("http://{listen}"), &database_url).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while app.client.get(app.url("/rooms/")).send().await.is_err() {
            assert!(
                Instant::now() < deadline,
                "chat {role} did not start serving"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let bus = bus::BusConfig::new(
            testkit::AMQP_URL,
            bus::BusConfig::default_prefix(&database_url),
        );
        Self {
            child,
            app,
            log,
            reading_log,
            _bus: BusCleanup(bus),
        }
    }

    /// Sends the process SIGTERM, as Docker, systemd and Kubernetes stop one.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("a running process").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
    }

    /// Waits (up to `within`) for the process to exit; answers how, and how long it took.
    pub async fn exited(&mut self, within: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("still running {within:?} later"))
            .expect("the exit status");
        (status, started.elapsed())
    }

    /// Every line logged, once the process has exited.
    pub async fn log(self) -> Vec<String> {
        self.reading_log.await.expect("the log reader");
        let log = self.log.lock().unwrap();
        log.clone()
    }
}

/// Runs `chat <args>` on a fresh database with `env` (and none of the tests' flags, so the
/// environment decides), which must exit on its own within 30 s; answers how it exited and what
/// it wrote to stderr.
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
