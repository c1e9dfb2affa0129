//! S2's client: the few API calls the scenario makes, over one HTTP client.

use anyhow::bail;
use serde_json::json;
use uuid::Uuid;

use crate::Target;

#[derive(Clone)]
pub(super) struct Api {
    pub(super) http: reqwest::Client,
    pub(super) target: Target,
}

impl Api {
    pub(super) async fn room(&self, token: &str, name: &str) -> anyhow::Result<String> {
        super::super::room(&self.http, &self.target, token, name).await
    }

    pub(super) async fn join(&self, tokens: &[String], room: &str) -> anyhow::Result<()> {
        for token in tokens {
            self.http
                .post(format!("{}/rooms/{room}/join", self.target.url))
                .bearer_auth(token)
                .send()
                .await?
                .error_for_status()?;
        }
        Ok(())
    }

    /// Posts a message and checks it was stored (201).
    pub(super) async fn post(&self, token: &str, room: &str) -> anyhow::Result<()> {
        let response = self
            .http
            .post(format!("{}/rooms/{room}/messages", self.target.url))
            .bearer_auth(token)
            .json(&json!({
                "content": "a message of an ordinary length, about sixty bytes long",
                "client_msg_id": Uuid::new_v4().to_string(),
            }))
            .send()
            .await?;
        if response.status() != reqwest::StatusCode::CREATED {
            bail!(
                "post answered {}: {}",
                response.status(),
                response.text().await?
            );
        }
        Ok(())
    }
}
