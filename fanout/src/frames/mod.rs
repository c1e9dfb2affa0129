//! What travels over the socket: the frames the server sends in either dialect (the clients'
//! are in `client_frames`). Server frames are rendered once per room event and shared by
//! every socket of the room, so a delivery costs a clone of a reference-counted buffer.

use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::{Mention, MessagePosted, Role, RoomEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The two dialects of the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The seed's: every text frame in is a message; out come message and system frames only.
    V1,
    /// JSON frames both ways: sends with acks, typing, ping, resume, membership and presence.
    V2,
}

pub use crate::client_frames::{parse_sequence, ClientFrame};

/// One frame the server sends, as it goes on the wire.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerFrame<'a> {
    Message(SeedMessage<'a>),
    /// A message in the JSON dialect: the seed's fields and what became of it. Live, it was just
    /// posted; a resume replays a deleted one as a tombstone.
    #[serde(rename = "message")]
    FullMessage {
        #[serde(flatten)]
        seed: SeedMessage<'a>,
        is_bot: bool,
        edited_at: Option<String>,
        deleted: bool,
        reactions: [(); 0],
        reply_to: Option<Uuid>,
        reply_count: u32,
        mentions: &'a [Mention],
    },
    MessageEdited {
        seq: i64,
        room_id: Uuid,
        message_id: Uuid,
        content: &'a str,
        edited_at: String,
        mentions: &'a [Mention],
    },
    MessageDeleted {
        seq: i64,
        room_id: Uuid,
        message_id: Uuid,
    },
    ReactionAdded(Reaction<'a>),
    ReactionRemoved(Reaction<'a>),
    MemberJoined(Membership<'a>),
    MemberLeft {
        seq: i64,
        room_id: Uuid,
        user_id: Uuid,
        username: &'a str,
        created_at: String,
    },
    MemberRoleChanged(Membership<'a>),
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

/// A message as the seed's client knows it.
#[derive(Debug, Serialize)]
struct SeedMessage<'a> {
    id: Uuid,
    seq: i64,
    room_id: Uuid,
    user_id: Uuid,
    username: &'a str,
    content: &'a str,
    client_msg_id: Option<&'a str>,
    created_at: String,
}

/// One member's emoji on a message, given or taken back.
#[derive(Debug, Serialize)]
struct Reaction<'a> {
    seq: i64,
    room_id: Uuid,
    message_id: Uuid,
    emoji: &'a str,
    user_id: Uuid,
    username: &'a str,
}

/// A member and the role they now have.
#[derive(Debug, Serialize)]
struct Membership<'a> {
    seq: i64,
    room_id: Uuid,
    user_id: Uuid,
    username: &'a str,
    role: Role,
    created_at: String,
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

/// How one stored room event looks to each dialect. v1 sockets get messages only, in the seed's
/// shape (its client draws every other frame as a message); v2 sockets get messages with what
/// became of them, their changes and membership changes. The room's creation reaches no one: it
/// precedes every socket of the room.
pub fn render_event(room_id: Uuid, seq: i64, event: &RoomEvent) -> Rendered {
    match event {
        RoomEvent::MessagePosted(posted) => Rendered {
            v1: Some(seed_message(room_id, seq, posted)),
            v2: Some(full_message(room_id, seq, posted, false)),
        },
        RoomEvent::MessageEdited {
            message_id,
            content,
            mentions,
            edited_at,
            ..
        } => v2_only(ServerFrame::MessageEdited {
            seq,
            room_id,
            message_id: *message_id,
            content,
            edited_at: timestamp(*edited_at),
            mentions,
        }),
        RoomEvent::MessageDeleted { message_id, .. } => v2_only(ServerFrame::MessageDeleted {
            seq,
            room_id,
            message_id: *message_id,
        }),
        RoomEvent::ReactionAdded {
            message_id,
            emoji,
            user_id,
            username,
            ..
        } => v2_only(ServerFrame::ReactionAdded(Reaction {
            seq,
            room_id,
            message_id: *message_id,
            emoji,
            user_id: *user_id,
            username,
        })),
        RoomEvent::ReactionRemoved {
            message_id,
            emoji,
            user_id,
            username,
            ..
        } => v2_only(ServerFrame::ReactionRemoved(Reaction {
            seq,
            room_id,
            message_id: *message_id,
            emoji,
            user_id: *user_id,
            username,
        })),
        RoomEvent::MemberJoined {
            user_id,
            username,
            role,
            joined_at,
        } => v2_only(ServerFrame::MemberJoined(Membership {
            seq,
            room_id,
            user_id: *user_id,
            username,
            role: *role,
            created_at: timestamp(*joined_at),
        })),
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
        } => v2_only(ServerFrame::MemberRoleChanged(Membership {
            seq,
            room_id,
            user_id: *user_id,
            username,
            role: *role,
            created_at: timestamp(*changed_at),
        })),
        RoomEvent::RoomCreated { .. } => Rendered::default(),
    }
}

/// An event of a message deleted since, as a resume replays it: its `MessagePosted` to v2 sockets
/// as a tombstone (its id and seq, no text), to v1 sockets not at all, since the seed's client
/// would draw it as a message; its edits to v2 sockets without their text, which keeps the v2
/// sequence gapless while nothing of what it said leaves the log. Its other changes carry no
/// text, and go as they would live.
pub fn render_tombstone(room_id: Uuid, seq: i64, event: &RoomEvent) -> Rendered {
    match event {
        RoomEvent::MessagePosted(posted) => Rendered {
            v1: None,
            v2: Some(full_message(room_id, seq, posted, true)),
        },
        RoomEvent::MessageEdited {
            message_id,
            edited_at,
            ..
        } => v2_only(ServerFrame::MessageEdited {
            seq,
            room_id,
            message_id: *message_id,
            content: "",
            edited_at: timestamp(*edited_at),
            mentions: &[],
        }),
        other => render_event(room_id, seq, other),
    }
}

fn seed_message(room_id: Uuid, seq: i64, posted: &MessagePosted) -> Utf8Bytes {
    ServerFrame::Message(seed_fields(room_id, seq, posted, &posted.content)).render()
}

fn full_message(room_id: Uuid, seq: i64, posted: &MessagePosted, deleted: bool) -> Utf8Bytes {
    let content = if deleted { "" } else { &posted.content };
    ServerFrame::FullMessage {
        seed: seed_fields(room_id, seq, posted, content),
        is_bot: posted.is_bot,
        edited_at: None,
        deleted,
        reactions: [],
        reply_to: posted.reply_to,
        reply_count: 0,
        mentions: if deleted { &[] } else { &posted.mentions },
    }
    .render()
}

fn seed_fields<'a>(
    room_id: Uuid,
    seq: i64,
    posted: &'a MessagePosted,
    content: &'a str,
) -> SeedMessage<'a> {
    SeedMessage {
        id: posted.message_id,
        seq,
        room_id,
        user_id: posted.user_id,
        username: &posted.username,
        content,
        client_msg_id: posted.client_msg_id.as_deref(),
        created_at: timestamp(posted.posted_at),
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
mod tests;
