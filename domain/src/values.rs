//! Validated value types. Their only constructors validate, so an invalid name, password or message
//! cannot exist past the HTTP edge.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

/// Why a value was refused; the text is shown to the client as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

fn invalid(text: impl Into<String>) -> InvalidValue {
    InvalidValue(text.into())
}

/// PostgreSQL's text cannot hold U+0000, so no value shown in the read tables may: the event
/// store would keep it, but the projection could never show it.
fn refuse_nul(raw: &str, what: &str) -> Result<(), InvalidValue> {
    if raw.contains('\0') {
        return Err(invalid(format!(
            "{what} must not contain the NUL character (U+0000)"
        )));
    }
    Ok(())
}

/// Trim, Unicode NFC, lowercase: the form in which names are compared and turned into ids.
pub fn normalise(name: &str) -> String {
    name.trim().nfc().collect::<String>().to_lowercase()
}

/// Fixed namespaces for name-derived ids. Changing one would orphan every stored aggregate.
const USER_NAMESPACE: Uuid = Uuid::from_u128(0x5c1b_3a51_7d0e_4f0c_9a8e_2a1f_6b4c_0001);
const ROOM_NAMESPACE: Uuid = Uuid::from_u128(0x5c1b_3a51_7d0e_4f0c_9a8e_2a1f_6b4c_0002);

/// A username: 3–32 of `A-Z a-z 0-9 _ . -` (so never a NUL), kept as typed, compared
/// case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let name = raw.trim();
        let length = name.chars().count();
        if !(3..=32).contains(&length) {
            return Err(invalid("username must be 3 to 32 characters long"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(invalid(
                "username may contain only letters A-Z, digits, '_', '.' and '-'",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The user's id: the same for every spelling that differs only in case, so two registrations
    /// of one name collide on the event store's key.
    pub fn user_id(&self) -> Uuid {
        Uuid::new_v5(&USER_NAMESPACE, normalise(&self.0).as_bytes())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed at registration: 8–72 bytes. bcrypt ignores everything past 72 bytes, so a
/// longer one is refused rather than silently truncated. A NUL is allowed: our bcrypt hashes it
/// like any other byte (it does not end the password there as C's does), and a password is only
/// ever stored hashed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw.len() {
            0..8 => Err(invalid("password must be at least 8 bytes long")),
            8..=72 => Ok(Self(raw.to_owned())),
            _ => Err(invalid("password must be at most 72 bytes long")),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A room's password: 1–72 bytes, for the same bcrypt reasons as [`Password`].
#[derive(Clone, PartialEq, Eq)]
pub struct RoomPassword(String);

impl RoomPassword {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw.len() {
            0 => Err(invalid("room password must not be empty")),
            1..=72 => Ok(Self(raw.to_owned())),
            _ => Err(invalid("room password must be at most 72 bytes long")),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RoomPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RoomPassword(***)")
    }
}

/// A room name: 1–64 characters after trimming, no NUL, shown as typed (NFC), unique ignoring
/// case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomName(String);

impl RoomName {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        refuse_nul(raw, "room name")?;
        let name: String = raw.trim().nfc().collect();
        match name.chars().count() {
            0 => Err(invalid("room name must not be empty")),
            1..=64 => Ok(Self(name)),
            _ => Err(invalid("room name must be at most 64 characters long")),
        }
    }

    /// The room's id: equal names (ignoring case) share it, so a second creation collides.
    pub fn room_id(&self) -> Uuid {
        Uuid::new_v5(&ROOM_NAMESPACE, normalise(&self.0).as_bytes())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message body: trimmed, 1–4000 characters, no NUL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        refuse_nul(raw, "message")?;
        let body = raw.trim();
        match body.chars().count() {
            0 => Err(invalid("message must not be empty")),
            1..=Self::MAX_CHARS => Ok(Self(body.to_owned())),
            _ => Err(invalid("message must be at most 4000 characters long")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The sender's own id for a message, opaque, 1–64 characters but no NUL; a retry carries the
/// same one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientMsgId(String);

impl ClientMsgId {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        refuse_nul(raw, "client_msg_id")?;
        match raw.chars().count() {
            1..=64 => Ok(Self(raw.to_owned())),
            _ => Err(invalid("client_msg_id must be 1 to 64 characters long")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_conversions {
    ($($type:ident),*) => {$(
        impl TryFrom<String> for $type {
            type Error = InvalidValue;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }
        impl From<$type> for String {
            fn from(value: $type) -> String {
                value.0
            }
        }
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
string_conversions!(Username, RoomName, MessageBody, ClientMsgId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_differing_in_case_share_an_id() {
        let a = Username::parse("Alice").unwrap();
        let b = Username::parse("  aLICE ").unwrap();
        assert_eq!(a.user_id(), b.user_id());
        assert_eq!(a.as_str(), "Alice");
    }

    #[test]
    fn usernames_outside_the_alphabet_or_length_are_refused() {
        for bad in ["ab", "a b c", "name!", &"x".repeat(33), "émile"] {
            assert!(Username::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Username::parse("a.b-c_9").is_ok());
    }

    #[test]
    fn passwords_are_8_to_72_bytes() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"p".repeat(72)).is_ok());
        assert!(Password::parse(&"p".repeat(73)).is_err());
        // 24 three-byte characters are 72 bytes: the limit counts bytes, as bcrypt does.
        assert!(Password::parse(&"€".repeat(24)).is_ok());
        assert!(Password::parse(&"€".repeat(25)).is_err());
    }

    #[test]
    fn room_names_are_normalised_before_they_become_ids() {
        let composed = RoomName::parse("Caf\u{e9}").unwrap();
        let decomposed = RoomName::parse(" CAFE\u{301} ").unwrap();
        assert_eq!(composed.room_id(), decomposed.room_id());
        assert!(RoomName::parse("   ").is_err());
        assert!(RoomName::parse(&"r".repeat(64)).is_ok());
        assert!(RoomName::parse(&"r".repeat(65)).is_err());
    }

    #[test]
    fn user_and_room_ids_live_in_different_namespaces() {
        let user = Username::parse("lobby").unwrap();
        let room = RoomName::parse("lobby").unwrap();
        assert_ne!(user.user_id(), room.room_id());
    }

    #[test]
    fn message_bodies_are_trimmed_and_bounded_in_characters() {
        assert_eq!(MessageBody::parse("  hi  ").unwrap().as_str(), "hi");
        assert!(MessageBody::parse(" \n ").is_err());
        assert!(MessageBody::parse(&"ß".repeat(4000)).is_ok());
        assert!(MessageBody::parse(&"ß".repeat(4001)).is_err());
    }

    #[test]
    fn a_nul_is_refused_wherever_the_read_tables_would_show_it() {
        assert!(Username::parse("nul\0name").is_err(), "not in the alphabet");
        assert_eq!(
            MessageBody::parse("a \0 b").unwrap_err().0,
            "message must not contain the NUL character (U+0000)"
        );
        assert_eq!(
            RoomName::parse("\0lobby").unwrap_err().0,
            "room name must not contain the NUL character (U+0000)"
        );
        assert_eq!(
            ClientMsgId::parse("c\0").unwrap_err().0,
            "client_msg_id must not contain the NUL character (U+0000)"
        );
        assert!(Password::parse("secret\0phrase").is_ok());
        assert!(RoomPassword::parse("\0").is_ok());
    }

    #[test]
    fn client_msg_ids_are_opaque_but_bounded() {
        assert!(ClientMsgId::parse("not-a-uuid").is_ok());
        assert!(ClientMsgId::parse("").is_err());
        assert!(ClientMsgId::parse(&"c".repeat(65)).is_err());
    }
}
