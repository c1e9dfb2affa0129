use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One stored event as it travels on the bus. `position` is its global place in the store
/// (ordered, with gaps); `sequence` its place in its aggregate (gapless). Its fields are the
/// `events` table's columns, so a row of it reads straight into one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct EventEnvelope {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
}

impl EventEnvelope {
    /// `<aggregate_type>.<aggregate_id>.<event_type>`: consumers bind to `Room.#`, one room's
    /// `Room.<id>.#`, or every `*.*.MessagePosted`.
    pub fn routing_key(&self) -> String {
        format!(
            "{}.{}.{}",
            self.aggregate_type, self.aggregate_id, self.event_type
        )
    }
}
