//! The cursor of search pages: the last result's place in the order of results (rank, then
//! newest first, then room and sequence, all descending), so the next page starts right after
//! it, whatever page size either asks for.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::cursor_form::{lower_hex, micros_text, time_of_micros, uuid_of, whole_number};
use crate::QueryError;

pub(crate) const NOT_A_CURSOR: &str =
    "cursor is not a search cursor: use the previous page's `next`, or none to start over";

/// A cursor as the server writes it: the rank's bits as 8 hex digits, the creation time in
/// microseconds since 1970 (16 digits at most: until the year 2286), the room's id and the
/// sequence. Every string of this form is a cursor.
pub(crate) const CURSOR_PATTERN: &str = r"^[0-9a-f]{8}\.(0|[1-9][0-9]{0,15})\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[1-9][0-9]{0,17}$";

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SearchCursor {
    /// Exactly as PostgreSQL computed it (`real`), so the next page compares equal ranks as equal.
    pub(crate) rank: f32,
    /// To the microsecond, as PostgreSQL stores it.
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) room_id: Uuid,
    pub(crate) seq: i64,
}

impl SearchCursor {
    pub(crate) fn encode(&self) -> String {
        format!(
            "{:08x}.{}.{}.{}",
            self.rank.to_bits(),
            micros_text(self.created_at),
            self.room_id.hyphenated(),
            self.seq
        )
    }

    /// Reads exactly what [`CURSOR_PATTERN`] matches, and nothing else.
    pub(crate) fn decode(raw: &str) -> Result<Self, QueryError> {
        Self::read(raw).ok_or(QueryError::InvalidParameter(NOT_A_CURSOR))
    }

    fn read(raw: &str) -> Option<Self> {
        let mut parts = raw.split('.');
        let (Some(rank), Some(micros), Some(room_id), Some(seq), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        if rank.len() != 8 || !rank.bytes().all(lower_hex) || !whole_number(seq, 18, false) {
            return None;
        }
        Some(Self {
            rank: f32::from_bits(u32::from_str_radix(rank, 16).ok()?),
            created_at: time_of_micros(micros)?,
            room_id: uuid_of(room_id)?,
            seq: seq.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use fancy_regex::Regex;
    use proptest::prelude::*;

    use super::*;

    fn cursor(rank: f32, micros: i64, seq: i64) -> SearchCursor {
        SearchCursor {
            rank,
            created_at: DateTime::from_timestamp_micros(micros).unwrap(),
            room_id: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            seq,
        }
    }

    fn published(raw: &str) -> bool {
        Regex::new(CURSOR_PATTERN).unwrap().is_match(raw).unwrap()
    }

    #[test]
    fn anything_but_the_written_form_is_refused() {
        let good = cursor(0.5, 1_700_000_000_000_000, 7).encode();
        assert!(published(&good));
        let refused = [
            String::new(),
            "x".into(),
            good.to_uppercase(),
            format!("{good}."),
            format!(".{good}"),
            format!("{good}.1"),
            format!("{good}\n"),
            good.replace(".7", ".07"),
            good.replace(".7", ".0"),
            good.replace(".7", ".-7"),
            good.replace(".7", ".9999999999999999999"),
            good.replacen("3f000000", "3f00000", 1),
            good.replacen("3f000000", "3f0000000", 1),
            good.replacen(".1700", ".01700", 1),
            good.replacen(".1700000000000000", ".17000000000000000", 1),
            good.replace('-', ""),
        ];
        for raw in refused {
            assert!(SearchCursor::decode(&raw).is_err(), "{raw:?} was taken");
            assert!(!published(&raw), "{raw:?} matches the pattern");
        }
    }

    proptest! {
        #[test]
        fn a_cursor_reads_back_as_written_to_the_bit(
            bits in any::<u32>(),
            micros in 0i64..=9_999_999_999_999_999,
            seq in 1i64..=999_999_999_999_999_999,
        ) {
            let written = cursor(f32::from_bits(bits), micros, seq);
            let encoded = written.encode();
            prop_assert!(published(&encoded));
            let read = SearchCursor::decode(&encoded).unwrap();
            prop_assert_eq!(read.rank.to_bits(), bits);
            prop_assert_eq!((read.created_at, read.room_id, read.seq), (written.created_at, written.room_id, written.seq));
        }

        #[test]
        fn a_cursor_is_read_exactly_when_its_published_pattern_matches(
            raw in prop_oneof![
                "[0-9a-fA-F]{7,9}\\.(0|[1-9][0-9]{0,16}|0[0-9])\\.[0-9a-fA-F-]{34,37}\\.(0|-?[1-9][0-9]{0,18})",
                "[0-9a-f]{8}\\.[0-9]{1,17}\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.[0-9]{1,19}\n?",
                any::<String>(),
            ]
        ) {
            prop_assert_eq!(SearchCursor::decode(&raw).is_ok(), published(&raw), "{:?}", raw);
        }
    }
}
