//! Whether a fan-out node delivers: a probe socket on a room of its own, and messages posted
//! through REST until one arrives on it. Serving HTTP is not enough: a node is usable once its
//! bus consumer is live.

use std::time::Duration;

use anyhow::bail;
use futures::StreamExt;
use serde_json::json;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::scenarios::ws_rig;

/// How long a node may take to deliver after it serves HTTP.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// The probe's room and member.
pub struct Probe {
    pub http: reqwest::Client,
    pub room_id: String,
    pub token: String,
}

impl Probe {
    /// Waits until a message posted through one of `apis` reaches a socket on the node at
    /// `ws_base`.
    pub async fn until_delivering(&self, ws_base: &str, apis: &[String]) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_WITHIN;
        let url = format!("{ws_base}/ws/{}?token={}&v=2", self.room_id, self.token);
        let mut attempt = 0usize;
        while Instant::now() < deadline {
            let Ok(Ok(mut ws)) = tokio::time::timeout(
                Duration::from_secs(2),
                ws_rig::subscribe(ws_rig::Kind::Chat, &url),
            )
            .await
            else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            while Instant::now() < deadline {
                attempt += 1;
                let content = format!("probe {attempt}");
                let api = &apis[attempt % apis.len()];
                let posted = self
                    .http
                    .post(format!("{api}/rooms/{}/messages", self.room_id))
                    .bearer_auth(&self.token)
                    .json(&json!({ "content": content }))
                    .send()
                    .await;
                if !posted.is_ok_and(|answer| answer.status().is_success()) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                let arrived = tokio::time::timeout(Duration::from_secs(1), async {
                    while let Some(Ok(frame)) = ws.next().await {
                        if let Message::Text(text) = frame {
                            if text
                                .as_str()
                                .contains(&format!("\"content\":\"{content}\""))
                            {
                                return true;
                            }
                        }
                    }
                    false
                })
                .await;
                match arrived {
                    Ok(true) => {
                        let _ = ws.close(None).await;
                        return Ok(());
                    }
                    Ok(false) => break,
                    Err(_) => {}
                }
            }
        }
        bail!("the fan-out node at {ws_base} delivered no probe within {READY_WITHIN:?}")
    }
}
