//! The frames a v2 client sends, and the room sequences clients give as cursors.

use std::fmt;

use serde::de::{self, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

/// A frame from a v2 client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Send {
        content: String,
        #[serde(default)]
        client_msg_id: Option<String>,
        /// The id of the message of this room it answers.
        #[serde(default)]
        reply_to: Option<Uuid>,
    },
    Typing,
    Ping,
    Resume {
        #[serde(deserialize_with = "client_sequence")]
        since: i64,
    },
}

/// The largest room sequence there can be: the store counts in PostgreSQL's `bigint`. A client's
/// cursor may be anything from 0 to this (past the room's end means nothing to catch up); a
/// larger one is refused, never clamped or wrapped.
pub const LAST_SEQUENCE: i64 = i64::MAX;

/// A client's cursor in the URL (`?since=`): a room sequence, or the reason it is not one.
pub fn parse_sequence(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .ok()
        .filter(|since| *since >= 0)
        .ok_or_else(|| format!("since must be a room sequence, from 0 to {LAST_SEQUENCE}"))
}

fn client_sequence<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    deserializer.deserialize_i64(RoomSequence)
}

/// Reads a JSON number as a room sequence: an integer from 0 to [`LAST_SEQUENCE`].
struct RoomSequence;

impl Visitor<'_> for RoomSequence {
    type Value = i64;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "a room sequence, from 0 to {LAST_SEQUENCE}")
    }

    fn visit_i64<E: de::Error>(self, since: i64) -> Result<i64, E> {
        if since < 0 {
            return Err(E::invalid_value(Unexpected::Signed(since), &self));
        }
        Ok(since)
    }

    fn visit_u64<E: de::Error>(self, since: u64) -> Result<i64, E> {
        i64::try_from(since).map_err(|_| E::invalid_value(Unexpected::Unsigned(since), &self))
    }
}

impl ClientFrame {
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|error| {
            format!("Not a frame of the v2 dialect ({error}); see docs/websocket.md")
        })
    }
}
