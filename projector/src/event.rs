//! What an event means to the read tables, decided before any SQL runs: an event that cannot
//! be understood is dead-lettered here rather than failing the batch it came in.

use bus::EventEnvelope;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::{Room, RoomEvent, RoomWebhooks, User, UserEvent, UserRole};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// The event version this projector understands of user and webhook events; room events say
/// which versions of theirs are upcast.
const KNOWN_VERSION: &str = "1";
const USER_EVENTS: [&str; 9] = [
    "UserRegistered",
    "BotRegistered",
    "BotRevoked",
    "PasswordChanged",
    "TokenRevoked",
    "AllTokensRevoked",
    "RoleGranted",
    "RoleRevoked",
    "AuditLogRead",
];
const ROOM_EVENTS: [&str; 9] = domain::room::EVENT_TYPES;
/// A room's webhooks have no read table: their events are their record, read by the command
/// API from the aggregate and followed by the delivery worker.
const WEBHOOK_EVENTS: [&str; 2] = ["WebhookCreated", "WebhookDeleted"];

pub(crate) enum Change {
    UserRegistered {
        user_id: Uuid,
        username: String,
        registered_at: DateTime<Utc>,
        is_bot: bool,
    },
    Room {
        room_id: Uuid,
        event: RoomEvent,
    },
    /// A role granted (`granted_at` set) or taken away (`None`).
    UserRole {
        user_id: Uuid,
        role: UserRole,
        granted_at: Option<DateTime<Utc>>,
    },
    /// An event the read tables do not show (revocations, the audit trail: the event log is
    /// their record); only its checkpoint moves.
    Unprojected,
}

/// The change an event makes, or why it cannot be applied.
pub(crate) fn decode(envelope: &EventEnvelope) -> Result<Change, String> {
    let known = match envelope.aggregate_type.as_str() {
        User::TYPE => &USER_EVENTS[..],
        Room::TYPE => &ROOM_EVENTS[..],
        RoomWebhooks::TYPE => &WEBHOOK_EVENTS[..],
        other => return Err(format!("unknown aggregate type {other}")),
    };
    if !known.contains(&envelope.event_type.as_str()) {
        return Err(format!(
            "unknown event type {} of {}",
            envelope.event_type, envelope.aggregate_type
        ));
    }
    let known_version = if envelope.aggregate_type == Room::TYPE {
        domain::room::is_known_version(&envelope.event_type, &envelope.event_version)
    } else {
        envelope.event_version == KNOWN_VERSION
    };
    if !known_version {
        return Err(format!(
            "unknown version {} of {}",
            envelope.event_version, envelope.event_type
        ));
    }
    let tag = envelope
        .payload
        .as_object()
        .and_then(|payload| payload.keys().next());
    if tag != Some(&envelope.event_type) {
        return Err(format!(
            "the payload is not a {} event: {}",
            envelope.event_type, envelope.payload
        ));
    }
    // PostgreSQL's text cannot hold NUL: such an event would fail every batch it is part of.
    if holds_nul(&envelope.payload) {
        return Err("the payload holds a NUL character".to_owned());
    }
    let malformed =
        |error: serde_json::Error| format!("malformed {} payload: {error}", envelope.event_type);
    if envelope.aggregate_type == RoomWebhooks::TYPE {
        let _: domain::WebhookEvent =
            Deserialize::deserialize(&envelope.payload).map_err(malformed)?;
        return Ok(Change::Unprojected);
    }
    if envelope.aggregate_type == User::TYPE {
        let event: UserEvent = Deserialize::deserialize(&envelope.payload).map_err(malformed)?;
        let is_bot = matches!(event, UserEvent::BotRegistered { .. });
        match event {
            UserEvent::UserRegistered {
                user_id,
                username,
                registered_at,
                ..
            }
            | UserEvent::BotRegistered {
                user_id,
                username,
                registered_at,
                ..
            } => Ok(Change::UserRegistered {
                user_id,
                username,
                registered_at,
                is_bot,
            }),
            UserEvent::RoleGranted { role, granted_at } => Ok(Change::UserRole {
                user_id: user_id(envelope)?,
                role,
                granted_at: Some(granted_at),
            }),
            UserEvent::RoleRevoked { role, .. } => Ok(Change::UserRole {
                user_id: user_id(envelope)?,
                role,
                granted_at: None,
            }),
            UserEvent::PasswordChanged { .. }
            | UserEvent::TokenRevoked { .. }
            | UserEvent::AllTokensRevoked { .. }
            | UserEvent::AuditLogRead { .. }
            // A revoked bot stays a user: its messages keep their author.
            | UserEvent::BotRevoked { .. } => Ok(Change::Unprojected),
        }
    } else {
        let room_id = envelope
            .aggregate_id
            .parse()
            .map_err(|_| format!("room id {:?} is not a UUID", envelope.aggregate_id))?;
        let event = Deserialize::deserialize(&envelope.payload).map_err(malformed)?;
        Ok(Change::Room { room_id, event })
    }
}

fn user_id(envelope: &EventEnvelope) -> Result<Uuid, String> {
    envelope
        .aggregate_id
        .parse()
        .map_err(|_| format!("user id {:?} is not a UUID", envelope.aggregate_id))
}

fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(name, value)| name.contains('\0') || holds_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}
