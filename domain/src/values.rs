//! Validated value types. Their only constructors validate, so an invalid name, password or message
//! cannot exist past the HTTP edge.

mod emoji;
pub mod patterns;

pub use emoji::Emoji;

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

/// Bidi embeddings, overrides and isolates: they reorder the text around them, so a name or a
/// message could show itself as something else.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: whitespace, controls, format characters (zero-width spaces and
/// joiners, word joiners, byte order marks, invisible operators, tags, variation selectors) and
/// the fillers that some scripts draw as blank.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}' | '\u{FFA0}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// Refuses C0 and C1 control characters (but those `allowed`) and bidi controls in `text`,
/// naming `what` and the first character refused.
fn refuse_hidden_controls(text: &str, what: &str, allowed: &[char]) -> Result<(), InvalidValue> {
    let refused = text
        .chars()
        .find(|&c| (c.is_control() && !allowed.contains(&c)) || is_bidi_control(c));
    match refused {
        None => Ok(()),
        Some(c) if is_bidi_control(c) => Err(invalid(format!(
            "{what} must not contain bidirectional override or isolate characters (found U+{:04X})",
            u32::from(c)
        ))),
        Some(c) => Err(invalid(format!(
            "{what} must not contain control characters (found U+{:04X})",
            u32::from(c)
        ))),
    }
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

/// A password as typed at registration: 8–72 characters, counted as JSON Schema and every client
/// count them. Never trimmed or truncated: one longer than bcrypt reads (72 bytes) is hashed
/// whole first (`auth::Passwords`). A NUL is allowed: our bcrypt hashes it like any other byte
/// (it does not end the password there as C's does), and a password is only ever stored hashed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MAX_CHARS: usize = 72;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw.chars().count() {
            0..8 => Err(invalid("password must be at least 8 characters long")),
            8..=Self::MAX_CHARS => Ok(Self(raw.to_owned())),
            _ => Err(invalid("password must be at most 72 characters long")),
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

/// A room's password: 1–72 characters, hashed as [`Password`] is.
#[derive(Clone, PartialEq, Eq)]
pub struct RoomPassword(String);

impl RoomPassword {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw.chars().count() {
            0 => Err(invalid("room password must not be empty")),
            1..=Password::MAX_CHARS => Ok(Self(raw.to_owned())),
            _ => Err(invalid("room password must be at most 72 characters long")),
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

/// A room name: 1–64 characters after trimming, at least one of them visible, no control or
/// bidi control characters, shown as typed (NFC), unique ignoring case. The rules apply to the
/// characters as sent, before NFC (which may join or split some), so that they are exactly what
/// the published pattern says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomName(String);

impl RoomName {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        refuse_nul(raw, "room name")?;
        let name = raw.trim();
        match name.chars().count() {
            0 => return Err(invalid("room name must not be empty")),
            1..=64 => {}
            _ => return Err(invalid("room name must be at most 64 characters long")),
        }
        refuse_hidden_controls(name, "room name", &[])?;
        if name.chars().all(is_invisible) {
            return Err(invalid("room name must contain a visible character"));
        }
        Ok(Self(name.nfc().collect()))
    }

    /// The room's id: equal names (ignoring case) share it, so a second creation collides.
    pub fn room_id(&self) -> Uuid {
        Uuid::new_v5(&ROOM_NAMESPACE, normalise(&self.0).as_bytes())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message body: trimmed, 1–4000 characters, no control characters but newlines and tabs, no
/// bidi controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        refuse_nul(raw, "message")?;
        let body = raw.trim();
        match body.chars().count() {
            0 => return Err(invalid("message must not be empty")),
            1..=Self::MAX_CHARS => {}
            _ => return Err(invalid("message must be at most 4000 characters long")),
        }
        refuse_hidden_controls(body, "message", &['\n', '\t'])?;
        Ok(Self(body.to_owned()))
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
    fn passwords_are_8_to_72_characters_whatever_their_bytes() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"p".repeat(72)).is_ok());
        assert!(Password::parse(&"p".repeat(73)).is_err());
        // 72 four-byte characters are 288 bytes: the limit counts characters, as clients do.
        assert!(Password::parse(&"😀".repeat(72)).is_ok());
        assert!(Password::parse(&"😀".repeat(73)).is_err());
        // Three characters are too short even when they are 9 bytes.
        assert!(Password::parse("€€€").is_err());
        assert!(RoomPassword::parse(&"€".repeat(72)).is_ok());
        assert!(RoomPassword::parse(&"€".repeat(73)).is_err());
    }

    #[test]
    fn a_room_name_is_bounded_as_sent_before_it_is_normalised() {
        // 64 letters each followed by a combining accent are 128 characters as sent, though NFC
        // would make 64 of them.
        assert!(RoomName::parse(&"e\u{301}".repeat(64)).is_err());
        let name = RoomName::parse(&"e\u{301}".repeat(32)).unwrap();
        assert_eq!(name.as_str(), "\u{e9}".repeat(32));
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
    fn room_names_refuse_control_and_bidi_characters() {
        for (bad, refusal) in [
            ("bell\u{7}", "room name must not contain control characters (found U+0007)"),
            ("two\nlines", "room name must not contain control characters (found U+000A)"),
            ("c1\u{85}x", "room name must not contain control characters (found U+0085)"),
            (
                "admin\u{202E}txt.exe",
                "room name must not contain bidirectional override or isolate characters (found U+202E)",
            ),
            (
                "\u{2066}isolated",
                "room name must not contain bidirectional override or isolate characters (found U+2066)",
            ),
        ] {
            assert_eq!(RoomName::parse(bad).unwrap_err().0, refusal, "{bad:?}");
        }
    }

    #[test]
    fn room_names_need_a_visible_character() {
        for blank in [
            "\u{200B}",
            "\u{2060}\u{FEFF}",
            " \u{3164} ",
            "\u{200D}\u{2800}",
        ] {
            assert_eq!(
                RoomName::parse(blank).unwrap_err().0,
                "room name must contain a visible character",
                "{blank:?}"
            );
        }
        assert!(
            RoomName::parse("a\u{200B}b").is_ok(),
            "invisible inside a visible name"
        );
        assert!(RoomName::parse("\u{1F600}").is_ok(), "an emoji is visible");
    }

    #[test]
    fn messages_keep_newlines_and_tabs_but_refuse_other_controls() {
        assert_eq!(
            MessageBody::parse("line one\n\tline two").unwrap().as_str(),
            "line one\n\tline two"
        );
        for (bad, found) in [
            ("a\u{1B}[31mred", "U+001B"),
            ("c\r\nd", "U+000D"),
            ("x\u{9B}y", "U+009B"),
        ] {
            assert_eq!(
                MessageBody::parse(bad).unwrap_err().0,
                format!("message must not contain control characters (found {found})")
            );
        }
        assert_eq!(
            MessageBody::parse("abc\u{202D}def").unwrap_err().0,
            "message must not contain bidirectional override or isolate characters (found U+202D)"
        );
        assert!(
            MessageBody::parse("\u{200F}rtl mark").is_ok(),
            "marks are not overrides"
        );
    }

    #[test]
    fn client_msg_ids_are_opaque_but_bounded() {
        assert!(ClientMsgId::parse("not-a-uuid").is_ok());
        assert!(ClientMsgId::parse("").is_err());
        assert!(ClientMsgId::parse(&"c".repeat(65)).is_err());
    }
}
