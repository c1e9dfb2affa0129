//! What travels over the socket: the frames clients send in the JSON dialect, and the frames the
//! server sends in either dialect. Server frames are rendered once per room event and shared by
//! every socket of the room, so a delivery costs a clone of a reference-counted buffer.

use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::{Role, RoomEvent};
use std::fmt;

use serde::de::{self, Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// The two dialects of the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The seed's: every text frame in is a message; out come message and system frames only.
    V1,
    /// JSON frames both ways: sends with acks, typing, ping, resume, membership and presence.
    V2,
}

/// A frame from a v2 client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Send {
        content: String,
        #[serde(default)]
        client_msg_id: Option<String>,
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

/// One frame the server sends, as it goes on the wire.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerFrame<'a> {
    Message {
        id: Uuid,
        seq: i64,
        room_id: Uuid,
        user_id: Uuid,
        username: &'a str,
        content: &'a str,
        client_msg_id: Option<&'a str>,
        created_at: String,
        is_bot: bool,
    },
    MemberJoined {
        seq: i64,
        room_id: Uuid,
        user_id: Uuid,
        username: &'a str,
        role: Role,
        created_at: String,
    },
    MemberLeft {
        seq: i64,
        room_id: Uuid,
        user_id: Uuid,
        username: &'a str,
        created_at: String,
    },
    MemberRoleChanged {
        seq: i64,
        room_id: Uuid,
        user_id: Uuid,
        username: &'a str,
        role: Role,
        created_at: String,
    },
    System {
        content: &'a str,
        username: &'static str,
        created_at: String,
    },
    Ack {
        id: Uuid,
        seq: u64,
        client_msg_id: Option<&'a str>,
    },
    Error {
        code: &'a str,
        detail: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    Pong,
    Typing {
        room_id: Uuid,
        user_id: Uuid,
        username: &'a str,
    },
    Presence {
        room_id: Uuid,
        users: &'a [PresentUser],
    },
    PresenceChanged {
        room_id: Uuid,
        joined: &'a [PresentUser],
        left: &'a [PresentUser],
    },
}

impl ServerFrame<'_> {
    fn render(&self) -> Utf8Bytes {
        serde_json::to_string(self)
            .expect("server frames serialise")
            .into()
    }
}

/// Times on the wire, as in the REST API: UTC, RFC 3339, microseconds.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A user connected to a room, as presence frames list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresentUser {
    pub user_id: Uuid,
    pub username: String,
}

/// A room event rendered for each dialect: `None` where that dialect does not receive it.
#[derive(Debug, Default)]
pub struct Rendered {
    pub v1: Option<Utf8Bytes>,
    pub v2: Option<Utf8Bytes>,
}

/// How one stored room event looks to each dialect. v1 sockets get messages only; v2 sockets
/// get messages and membership changes. The room's creation reaches no one: it precedes every
/// socket of the room.
pub fn render_event(room_id: Uuid, seq: i64, event: &RoomEvent) -> Rendered {
    match event {
        RoomEvent::MessagePosted(posted) => {
            let frame = ServerFrame::Message {
                id: posted.message_id,
                seq,
                room_id,
                user_id: posted.user_id,
                username: &posted.username,
                content: &posted.content,
                client_msg_id: posted.client_msg_id.as_deref(),
                created_at: timestamp(posted.posted_at),
                is_bot: posted.is_bot,
            }
            .render();
            Rendered {
                v1: Some(frame.clone()),
                v2: Some(frame),
            }
        }
        RoomEvent::MemberJoined {
            user_id,
            username,
            role,
            joined_at,
        } => v2_only(ServerFrame::MemberJoined {
            seq,
            room_id,
            user_id: *user_id,
            username,
            role: *role,
            created_at: timestamp(*joined_at),
        }),
        RoomEvent::MemberLeft {
            user_id,
            username,
            left_at,
        } => v2_only(ServerFrame::MemberLeft {
            seq,
            room_id,
            user_id: *user_id,
            username,
            created_at: timestamp(*left_at),
        }),
        RoomEvent::MemberRoleChanged {
            user_id,
            username,
            role,
            changed_at,
        } => v2_only(ServerFrame::MemberRoleChanged {
            seq,
            room_id,
            user_id: *user_id,
            username,
            role: *role,
            created_at: timestamp(*changed_at),
        }),
        RoomEvent::RoomCreated { .. } => Rendered::default(),
    }
}

fn v2_only(frame: ServerFrame<'_>) -> Rendered {
    Rendered {
        v1: None,
        v2: Some(frame.render()),
    }
}

/// The seed's notice, the only non-message frame a v1 socket ever gets.
pub fn system(content: &str) -> Utf8Bytes {
    ServerFrame::System {
        content,
        username: "System",
        created_at: timestamp(Utc::now()),
    }
    .render()
}

pub fn ack(id: Uuid, seq: u64, client_msg_id: Option<&str>) -> Utf8Bytes {
    ServerFrame::Ack {
        id,
        seq,
        client_msg_id,
    }
    .render()
}

/// A refusal in the v2 dialect; `retry_after` (seconds) comes with `rate_limited`.
pub fn error(
    code: &str,
    detail: &str,
    client_msg_id: Option<&str>,
    retry_after: Option<u64>,
) -> Utf8Bytes {
    ServerFrame::Error {
        code,
        detail,
        client_msg_id,
        retry_after,
    }
    .render()
}

pub fn pong() -> Utf8Bytes {
    ServerFrame::Pong.render()
}

pub fn typing(room_id: Uuid, user: &PresentUser) -> Utf8Bytes {
    ServerFrame::Typing {
        room_id,
        user_id: user.user_id,
        username: &user.username,
    }
    .render()
}

pub fn presence(room_id: Uuid, users: &[PresentUser]) -> Utf8Bytes {
    ServerFrame::Presence { room_id, users }.render()
}

pub fn presence_changed(room_id: Uuid, joined: &[PresentUser], left: &[PresentUser]) -> Utf8Bytes {
    ServerFrame::PresenceChanged {
        room_id,
        joined,
        left,
    }
    .render()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use domain::MessagePosted;

    use super::*;

    fn parsed(frame: &Utf8Bytes) -> Value {
        serde_json::from_str(frame.as_str()).unwrap()
    }

    #[test]
    fn a_message_is_the_same_frame_in_both_dialects_with_the_seeds_fields() {
        let room_id = Uuid::from_u128(1);
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let event = RoomEvent::MessagePosted(MessagePosted {
            message_id: Uuid::from_u128(2),
            user_id: Uuid::from_u128(3),
            username: "alice".into(),
            content: "hi".into(),
            client_msg_id: Some("c1".into()),
            posted_at: at,
            is_bot: false,
        });
        let rendered = render_event(room_id, 7, &event);
        assert_eq!(rendered.v1, rendered.v2);
        assert_eq!(
            parsed(&rendered.v1.unwrap()),
            json!({
                "type": "message", "id": Uuid::from_u128(2), "seq": 7, "room_id": room_id,
                "user_id": Uuid::from_u128(3), "username": "alice", "content": "hi",
                "client_msg_id": "c1", "created_at": "2026-01-02T03:04:05.000000Z",
                "is_bot": false
            })
        );
    }

    #[test]
    fn membership_reaches_only_the_json_dialect_and_carries_its_seq() {
        let event = RoomEvent::MemberLeft {
            user_id: Uuid::from_u128(3),
            username: "bob".into(),
            left_at: Utc::now(),
        };
        let rendered = render_event(Uuid::from_u128(1), 9, &event);
        assert!(rendered.v1.is_none());
        let frame = parsed(&rendered.v2.unwrap());
        assert_eq!(frame["type"], "member_left");
        assert_eq!(frame["seq"], 9);
        assert_eq!(frame["username"], "bob");
    }

    #[test]
    fn a_system_notice_has_the_seeds_shape() {
        let frame = parsed(&system("alice joined"));
        assert_eq!(frame["type"], "system");
        assert_eq!(frame["content"], "alice joined");
        assert_eq!(frame["username"], "System");
        assert!(frame["created_at"].is_string());
    }

    #[test]
    fn client_frames_parse_and_unknown_ones_are_refused() {
        assert!(matches!(
            ClientFrame::parse(r#"{"type":"send","content":"x","client_msg_id":"a"}"#),
            Ok(ClientFrame::Send { client_msg_id: Some(id), .. }) if id == "a"
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"type":"resume","since":4}"#),
            Ok(ClientFrame::Resume { since: 4 })
        ));
        assert!(ClientFrame::parse(r#"{"type":"dance"}"#).is_err());
        assert!(ClientFrame::parse("hello").is_err());
        assert!(ClientFrame::parse(r#"{"type":"resume","since":-1}"#).is_err());
    }

    #[test]
    fn a_resume_past_the_largest_sequence_there_can_be_is_refused() {
        assert!(matches!(
            ClientFrame::parse(r#"{"type":"resume","since":9223372036854775807}"#),
            Ok(ClientFrame::Resume { since: i64::MAX })
        ));
        for since in ["9223372036854775808", "18446744073709551615", "1e30", "-1"] {
            let refused = ClientFrame::parse(&format!(r#"{{"type":"resume","since":{since}}}"#));
            assert!(
                refused
                    .unwrap_err()
                    .contains("a room sequence, from 0 to 9223372036854775807"),
                "{since}"
            );
        }
    }
}
