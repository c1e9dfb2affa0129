//! The regular expressions that say exactly which texts the value types accept, for the JSON
//! Schemas of the API documents. They are written for ECMA 262 (JSON Schema's dialect) and read
//! the same in Python's and Rust's engines: `\uXXXX` escapes, and the few characters past the
//! Basic Multilingual Plane as themselves. `domain/tests/values.rs` checks each against its
//! parser.

/// What `str::trim` removes: Unicode `White_Space`.
const TRIMMED: &str =
    r"\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// What a trimmed name or message starts and ends with: not whitespace, not a control
/// character, not a bidi control.
const EDGE: &str =
    r"[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028-\u202F\u205F\u2066-\u2069\u3000]";

/// A character of a room name: no control characters (C0, C1), no bidi controls.
const NAME_CHARACTER: &str = r"[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]";

/// A character of a message: as in names, but newlines and tabs are kept.
const MESSAGE_CHARACTER: &str =
    r"[^\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]";

/// A character that shows something: none of `is_invisible`'s.
const VISIBLE: &str = concat!(
    r"[^\u0000-\u0020\u007F-\u00A0\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F",
    r"\u1680\u2000-\u200F\u2028-\u202F\u205F-\u206F\u2800\u3000\u3164\uFE00-\uFE0F\uFEFF",
    r"\uFFA0",
    "\u{1BCA0}-\u{1BCA3}\u{1D173}-\u{1D17A}\u{E0000}-\u{E0FFF}]"
);

/// [`Username`](super::Username): 3–32 of `A-Z a-z 0-9 _ . -`, around which whitespace is
/// trimmed.
pub fn username() -> String {
    format!("^[{TRIMMED}]*[A-Za-z0-9_.-]{{3,32}}[{TRIMMED}]*$")
}

/// [`RoomName`](super::RoomName): after trimming, 1–64 characters with no control or bidi
/// control characters, at least one of them visible.
pub fn room_name() -> String {
    format!(
        "^[{TRIMMED}]*(?=[\\s\\S]*{VISIBLE})(?:{EDGE}|{EDGE}{NAME_CHARACTER}{{0,62}}{EDGE})[{TRIMMED}]*$"
    )
}

/// [`MessageBody`](super::MessageBody): after trimming, 1–4000 characters with no control
/// characters but newline and tab, and no bidi controls.
pub fn message() -> String {
    format!("^[{TRIMMED}]*(?:{EDGE}|{EDGE}{MESSAGE_CHARACTER}{{0,3998}}{EDGE})[{TRIMMED}]*$")
}

/// Any text without U+0000, which PostgreSQL's text cannot hold
/// ([`ClientMsgId`](super::ClientMsgId)).
pub const NO_NUL: &str = r"^[^\u0000]*$";
