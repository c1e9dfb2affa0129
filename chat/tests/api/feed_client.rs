//! A Server-Sent Events client for the feed's stories, reading the stream as it arrives.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

/// One event of the stream.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: i64,
    pub event: String,
    pub data: Value,
}

pub struct SseStream {
    response: Response,
    buffer: String,
    /// Comment lines seen so far.
    pub comments: usize,
}

impl TestApp {
    /// Opens `GET /events` as a stream, with `Last-Event-ID` when given; must answer 200.
    pub async fn follow(&self, token: &str, query: &str, last_event_id: Option<i64>) -> SseStream {
        let response = self.open_feed(token, query, last_event_id).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        SseStream {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    pub async fn open_feed(
        &self,
        token: &str,
        query: &str,
        last_event_id: Option<i64>,
    ) -> Response {
        let mut request = self
            .client
            .get(self.url(&format!("/events{query}")))
            .bearer_auth(token)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        request.send().await.expect("request")
    }
}

impl SseStream {
    /// The next event within `wait`; `None` when none came or the stream ended.
    pub async fn next_within(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(event) = self.parse_one() {
                return Some(event);
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    pub async fn next(&mut self) -> SseEvent {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("an event within 10 s")
    }

    /// Whether the server ended the stream within `wait` (events before the end are dropped).
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None) | Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }

    fn parse_one(&mut self) -> Option<SseEvent> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (None, String::new(), String::new());
            for line in block.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                } else if let Some(value) = line.strip_prefix("id:") {
                    id = value.trim().parse().ok();
                } else if let Some(value) = line.strip_prefix("event:") {
                    event = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            if let Some(id) = id {
                let data = serde_json::from_str(&data).expect("JSON data");
                return Some(SseEvent { id, event, data });
            }
        }
    }
}
