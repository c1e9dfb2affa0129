//! The parts cursors are written with, each read back only in the one form the server writes,
//! so that a cursor's published pattern says exactly which strings are cursors.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The largest creation time a cursor can carry, in microseconds: 16 digits (until 2286).
const LAST_MICROS: i64 = 9_999_999_999_999_999;

/// A time as microseconds since 1970, as a cursor writes it.
pub(crate) fn micros_text(at: DateTime<Utc>) -> String {
    at.timestamp_micros().clamp(0, LAST_MICROS).to_string()
}

/// A time written by [`micros_text`].
pub(crate) fn time_of_micros(digits: &str) -> Option<DateTime<Utc>> {
    if !whole_number(digits, 16, true) {
        return None;
    }
    DateTime::from_timestamp_micros(digits.parse().ok()?)
}

/// An id written lower-case with hyphens.
pub(crate) fn uuid_of(text: &str) -> Option<Uuid> {
    let canonical = text.len() == 36
        && text.bytes().enumerate().all(|(at, b)| match at {
            8 | 13 | 18 | 23 => b == b'-',
            _ => lower_hex(b),
        });
    canonical.then(|| Uuid::try_parse(text).ok()).flatten()
}

/// Digits without a leading zero, 1 to `max_digits` of them; `0` itself only if allowed.
pub(crate) fn whole_number(digits: &str, max_digits: usize, zero_allowed: bool) -> bool {
    (1..=max_digits).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && if digits == "0" {
            zero_allowed
        } else {
            !digits.starts_with('0')
        }
}

pub(crate) fn lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}
