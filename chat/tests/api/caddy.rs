//! Caddy, from Debian's `caddy` package, serving `deploy/Caddyfile` itself: the proxy the compose
//! deployment runs, with each role's upstreams named through the file's environment placeholders
//! instead of found by DNS.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The Caddyfile the compose deployment mounts into its proxy.
const CADDYFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/Caddyfile");

/// How long Caddy may take to start serving.
const START_WITHIN: Duration = Duration::from_secs(20);

/// One `caddy run`, killed when dropped.
pub struct Caddy {
    /// Where clients reach it, e.g. `http://127.0.0.1:41234`.
    pub address: String,
    child: Child,
    /// Every line it logged (JSON), for the stories' failure messages.
    log: Arc<Mutex<Vec<String>>>,
    /// Its own home: Caddy keeps its autosaved config and data under it.
    home: PathBuf,
}

impl Caddy {
    /// Starts Caddy on a free port with `upstreams` (the Caddyfile's placeholder, e.g.
    /// `CHAT_PROXY_FANOUT`, and the role's addresses), its admin API off, and waits until it
    /// serves.
    pub async fn start(upstreams: &[(&str, Vec<String>)]) -> Self {
        let port = free_port();
        let home = std::env::temp_dir().join(format!("chat-caddy-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&home).expect("Caddy's home");
        let mut command = Command::new("caddy");
        command
            .args(["run", "--adapter", "caddyfile", "--config", CADDYFILE])
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("CHAT_PROXY_PORT", port.to_string())
            .env("CHAT_PROXY_ADMIN", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (placeholder, addresses) in upstreams {
            command.env(placeholder, format!("to {}", addresses.join(" ")));
        }
        let mut child = command
            .spawn()
            .expect("start caddy (Debian's package: apt-get install caddy)");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let gathered = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                gathered.lock().unwrap().push(line);
            }
        });
        let caddy = Self {
            address: format!("http://127.0.0.1:{port}"),
            child,
            log,
            home,
        };
        caddy.serving().await;
        caddy
    }

    /// Waits until Caddy answers on its port: its own 404 for `/healthz` will do, since the
    /// Caddyfile answers that path itself.
    async fn serving(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + START_WITHIN;
        loop {
            let answer = client.get(format!("{}/healthz", self.address)).send().await;
            if answer.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "caddy did not serve deploy/Caddyfile; its log:\n{}",
                self.log_so_far().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The lines Caddy logged so far.
    pub fn log_so_far(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// A port on loopback no process listens on right now.
fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("its address").port()
}
