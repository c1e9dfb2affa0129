//! Caddy, from Debian's `caddy` package, serving `deploy/Caddyfile` itself: the proxy the compose
//! deployment runs, with each role's upstreams named through the file's environment placeholders
//! instead of found by DNS.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::child_log::{self, Lines};

/// The Caddyfile the compose deployment mounts into its proxy.
const CADDYFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/Caddyfile");

/// How long Caddy may take to start serving.
const START_WITHIN: Duration = Duration::from_secs(20);

/// How many ports Caddy is started on before a story gives up.
const PORT_ATTEMPTS: usize = 5;

/// One `caddy run`, killed when dropped.
pub struct Caddy {
    /// Where clients reach it, e.g. `http://127.0.0.1:41234`.
    pub address: String,
    child: Child,
    /// Every line it logged (JSON), for the stories' failure messages.
    log: Lines,
    /// Its own home: Caddy keeps its autosaved config and data under it.
    home: PathBuf,
}

impl Caddy {
    /// Starts Caddy on a free port with `upstreams` (the Caddyfile's placeholder, e.g.
    /// `CHAT_PROXY_FANOUT`, and the role's addresses), its admin API off, and waits until it
    /// serves.
    ///
    /// Caddy cannot be asked which port it got, so the port is probed free first; another test
    /// may bind it in between, and then Caddy exits and is started again on another.
    pub async fn start(upstreams: &[(&str, Vec<String>)]) -> Self {
        let mut exits = Vec::new();
        while exits.len() < PORT_ATTEMPTS {
            match Self::start_on(free_port(), upstreams).await {
                Ok(caddy) => return caddy,
                Err(log) => exits.push(log.join("\n")),
            }
        }
        panic!(
            "caddy did not serve deploy/Caddyfile; its logs:\n{}",
            exits.join("\n\n")
        );
    }

    /// Starts Caddy on `port` and waits until it serves; answers its log if it exits first.
    async fn start_on(port: u16, upstreams: &[(&str, Vec<String>)]) -> Result<Self, Vec<String>> {
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
        let stderr = child.stderr.take().expect("piped stderr");
        // Logged once every listener is bound.
        let (log, _, served) = child_log::gather(stderr, |line| {
            line.contains("serving initial configuration").then_some(())
        });
        let caddy = Self {
            address: format!("http://127.0.0.1:{port}"),
            child,
            log,
            home,
        };
        match tokio::time::timeout(START_WITHIN, served).await {
            Ok(Ok(())) => Ok(caddy),
            Ok(Err(_exited)) => Err(caddy.log_so_far()),
            Err(_) => panic!(
                "caddy did not serve deploy/Caddyfile within {START_WITHIN:?}; its log:\n{}",
                caddy.log_so_far().join("\n")
            ),
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
