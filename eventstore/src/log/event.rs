//! One stored event, as the log reads it and as the bus carries it.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::EventLogError;

/// One row of the `events` table. `position` is its global place in the store (ordered, with
/// gaps); `sequence` its place in its aggregate (gapless). The bus carries this very type as its
/// wire envelope, so what travels is what was stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct StoredEvent {
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

impl StoredEvent {
    /// `<aggregate_type>.<aggregate_id>.<event_type>`: the bus routes by it, so consumers bind
    /// to `Room.#`, one room's `Room.<id>.#`, or every `*.*.MessagePosted`.
    pub fn routing_key(&self) -> String {
        routing_key(&self.aggregate_type, &self.aggregate_id, &self.event_type)
    }

    /// The event as it may be shown outside the server (audits, webhooks): every password hash
    /// in its payload, at any depth, replaced by `[redacted]`.
    pub fn redacted(mut self) -> Self {
        fn walk(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::Object(fields) => {
                    for (key, field) in fields.iter_mut() {
                        if key == "password_hash" && !field.is_null() {
                            *field = serde_json::Value::String("[redacted]".into());
                        } else {
                            walk(field);
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
                _ => {}
            }
        }
        walk(&mut self.payload);
        self
    }

    /// The payload as the aggregate's event type. A payload that does not decode is a fault of
    /// the writer or of a migration, never of the reader's input.
    pub fn decode<E: DeserializeOwned>(&self) -> Result<Recorded<E>, EventLogError> {
        let event = E::deserialize(&self.payload).map_err(|source| EventLogError::Undecodable {
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            sequence: self.sequence,
            source,
        })?;
        Ok(Recorded {
            sequence: self.sequence,
            recorded_at: self.recorded_at,
            event,
        })
    }
}

/// The routing key of an event: see [`StoredEvent::routing_key`].
pub(crate) fn routing_key(aggregate_type: &str, aggregate_id: &str, event_type: &str) -> String {
    format!("{aggregate_type}.{aggregate_id}.{event_type}")
}

/// One event of a known aggregate, decoded, at its place in the aggregate's sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded<E> {
    pub sequence: i64,
    pub recorded_at: DateTime<Utc>,
    pub event: E,
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::StoredEvent;

    fn redacted(payload: Value) -> Value {
        let event = StoredEvent {
            position: 1,
            aggregate_type: "Room".into(),
            aggregate_id: "r".into(),
            sequence: 1,
            event_type: "RoomCreated".into(),
            event_version: "1".into(),
            payload,
            metadata: json!({}),
            recorded_at: chrono::Utc::now(),
        };
        event.redacted().payload
    }

    #[test]
    fn password_hashes_are_redacted_at_any_depth_and_nulls_stay_null() {
        let payload = json!({"RoomCreated": {"name": "x", "password_hash": "$2b$12$abc", "nested": [{"password_hash": "h"}]}});
        let clean = redacted(payload);
        assert_eq!(clean["RoomCreated"]["password_hash"], "[redacted]");
        assert_eq!(
            clean["RoomCreated"]["nested"][0]["password_hash"],
            "[redacted]"
        );
        assert!(!clean.to_string().contains("$2b$"));
        let public = redacted(json!({"RoomCreated": {"password_hash": null}}));
        assert!(public["RoomCreated"]["password_hash"].is_null());
    }
}
