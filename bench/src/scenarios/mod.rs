//! One module per benchmark scenario (S1–S10, each measuring performance goals of the system
//! beside a baseline), plus what they share: a client that signs users up and makes rooms
//! through the real API, and progress bars.

pub mod fanout_latency;
pub mod fanout_throughput;
pub mod fast_senders;
pub mod faults;
pub mod feed_streams;
pub mod history;
pub mod idle_sockets;
pub mod projection;
pub mod reconnect_storm;
pub mod search;
pub mod unread;
pub mod write_path;
pub mod ws_baseline;
mod ws_load;
mod ws_rig;

use anyhow::Context;
use serde_json::{json, Value};

use crate::Target;

/// Registers `username` and answers its access token.
pub(crate) async fn user(
    http: &reqwest::Client,
    target: &Target,
    username: &str,
) -> anyhow::Result<String> {
    let credentials = json!({"username": username, "password": "bench password"});
    http.post(format!("{}/auth/register", target.url))
        .json(&credentials)
        .send()
        .await?
        .error_for_status()?;
    let token: Value = http
        .post(format!("{}/auth/login", target.url))
        .json(&credentials)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    token["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token in the login answer")
}

/// Creates a public room and answers its id.
pub(crate) async fn room(
    http: &reqwest::Client,
    target: &Target,
    token: &str,
    name: &str,
) -> anyhow::Result<String> {
    let room: Value = http
        .post(format!("{}/rooms/", target.url))
        .bearer_auth(token)
        .json(&json!({"name": name, "is_private": false}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    room["id"]
        .as_str()
        .map(str::to_owned)
        .context("no id in the room")
}

/// A bar that fills with time, for phases that run for a set time: finish it when the phase
/// ends (its ticker stops then).
pub(crate) fn timed(length: std::time::Duration, what: &'static str) -> indicatif::ProgressBar {
    let seconds = length.as_secs().max(1);
    let bar = indicatif::ProgressBar::new(seconds);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len} s")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what);
    let ticking = bar.clone();
    let started = std::time::Instant::now();
    tokio::spawn(async move {
        while !ticking.is_finished() {
            ticking.set_position(started.elapsed().as_secs().min(seconds));
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    });
    bar
}

pub(crate) fn progress(length: u64, what: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(length);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>24} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what);
    bar
}
