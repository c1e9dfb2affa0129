//! Reading events written in an older version as the current one. Each old version has its
//! stored shape here and the one conversion to the next version; readers only ever see the
//! newest, so a stored event never has to be rewritten.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::events::{Mention, MessagePosted, RoomKind};

/// The version `MessagePosted` is written in now.
pub(crate) const MESSAGE_POSTED_VERSION: &str = "2";

/// Every version `MessagePosted` was ever written in.
const MESSAGE_POSTED_VERSIONS: [&str; 2] = ["1", MESSAGE_POSTED_VERSION];

/// The version `RoomCreated` is written in now: version 2 added `kind`.
pub(crate) const ROOM_CREATED_VERSION: &str = "2";

/// Every version `RoomCreated` was ever written in.
const ROOM_CREATED_VERSIONS: [&str; 2] = ["1", ROOM_CREATED_VERSION];

/// Whether a room event of this type and version can be read (as its current version); readers
/// such as the projector refuse the others rather than guess.
pub fn is_known_version(event_type: &str, version: &str) -> bool {
    match event_type {
        "MessagePosted" => MESSAGE_POSTED_VERSIONS.contains(&version),
        "RoomCreated" => ROOM_CREATED_VERSIONS.contains(&version),
        _ => version == "1",
    }
}

/// `RoomCreated` version 1 to 2: every room created before direct rooms existed is a named one.
pub(crate) fn room_created_v1_kind() -> RoomKind {
    RoomKind::Room
}

/// `MessagePosted` as stored in any version: version 1 has neither `reply_to` nor `mentions`.
/// The version is told by the payload itself (its fields), so a reader needs no other column,
/// and reading it costs no more than reading the current version (no buffering, no retry).
#[derive(Deserialize)]
pub(crate) struct StoredMessagePosted {
    message_id: Uuid,
    user_id: Uuid,
    username: String,
    content: String,
    client_msg_id: Option<String>,
    posted_at: DateTime<Utc>,
    /// Since version 2.
    reply_to: Option<Uuid>,
    /// Since version 2; absent in version 1.
    mentions: Option<Vec<Mention>>,
    /// Absent from messages recorded before bots existed: those are a person's.
    #[serde(default)]
    is_bot: bool,
}

impl From<StoredMessagePosted> for MessagePosted {
    fn from(stored: StoredMessagePosted) -> Self {
        MessagePosted {
            message_id: stored.message_id,
            user_id: stored.user_id,
            username: stored.username,
            content: stored.content,
            client_msg_id: stored.client_msg_id,
            posted_at: stored.posted_at,
            // Version 1 to 2: a message of version 1 answered none and named nobody.
            reply_to: stored.reply_to,
            mentions: stored.mentions.unwrap_or_default(),
            is_bot: stored.is_bot,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::RoomEvent;
    use super::*;

    #[test]
    fn a_version_1_message_reads_as_version_2_answering_none_and_naming_nobody() {
        let stored = json!({"MessagePosted": {
            "message_id": "00000000-0000-0000-0000-000000000001",
            "user_id": "00000000-0000-0000-0000-000000000002",
            "username": "alice", "content": "hi @bob", "client_msg_id": null,
            "posted_at": "2026-01-02T03:04:05.123456Z"}});
        let RoomEvent::MessagePosted(posted) = serde_json::from_value(stored).unwrap() else {
            panic!("a message")
        };
        assert_eq!(posted.reply_to, None);
        assert!(posted.mentions.is_empty());
        assert!(!posted.is_bot, "a person's");
        assert_eq!(posted.content, "hi @bob");
    }

    #[test]
    fn a_version_1_room_reads_as_a_named_room_and_a_direct_one_keeps_its_kind() {
        let stored = json!({"RoomCreated": {
            "room_id": "00000000-0000-0000-0000-000000000001", "name": "Lobby",
            "is_private": false, "password_hash": null,
            "created_by": "00000000-0000-0000-0000-000000000002",
            "created_at": "2026-01-02T03:04:05.123456Z"}});
        let event: RoomEvent = serde_json::from_value(stored.clone()).unwrap();
        assert!(matches!(
            event,
            RoomEvent::RoomCreated {
                kind: RoomKind::Room,
                ..
            }
        ));
        let mut direct = stored;
        direct["RoomCreated"]["kind"] = json!("direct");
        let event: RoomEvent = serde_json::from_value(direct).unwrap();
        assert!(matches!(
            event,
            RoomEvent::RoomCreated {
                kind: RoomKind::Direct,
                ..
            }
        ));
        let written = serde_json::to_value(&event).unwrap();
        assert_eq!(written["RoomCreated"]["kind"], "direct");
    }

    #[test]
    fn only_the_versions_ever_written_are_known() {
        for (event_type, version, known) in [
            ("RoomCreated", "1", true),
            ("RoomCreated", "2", true),
            ("RoomCreated", "3", false),
            ("MessagePosted", "2", true),
            ("MessagePosted", "3", false),
            ("MemberJoined", "1", true),
            ("MemberJoined", "2", false),
        ] {
            assert_eq!(
                is_known_version(event_type, version),
                known,
                "{event_type} {version}"
            );
        }
    }

    #[test]
    fn a_version_2_message_keeps_its_reply_and_mentions_through_a_round_trip() {
        let posted = MessagePosted {
            message_id: Uuid::from_u128(1),
            user_id: Uuid::from_u128(2),
            username: "alice".into(),
            content: "hi @bob".into(),
            client_msg_id: Some("c".into()),
            posted_at: Utc::now(),
            reply_to: Some(Uuid::from_u128(3)),
            mentions: vec![Mention {
                user_id: Uuid::from_u128(4),
                username: "bob".into(),
            }],
            is_bot: true,
        };
        let event = RoomEvent::MessagePosted(posted);
        let stored = serde_json::to_value(&event).unwrap();
        assert_eq!(serde_json::from_value::<RoomEvent>(stored).unwrap(), event);
    }
}
