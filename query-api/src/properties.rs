//! The query parameters of the history and the room listing, as properties: any query string
//! is either refused at parsing or answered with a page within bounds, a refusal says why, and a
//! cursor this server gives reads back as itself, and cursors are read exactly as the API
//! document's pattern says.

use chrono::DateTime;
use proptest::prelude::*;
use uuid::Uuid;

use crate::history::{HistoryParams, MAX_OFFSET, OFFSET_TOO_DEEP};
use crate::listing::{RoomCursor, RoomsParams, CURSOR_PATTERN, MAX_ROOMS_PAGE, NOT_A_CURSOR};
use crate::QueryError;
use fancy_regex::Regex;

/// A query string as a client may write one: known and unknown names, numbers in and out of
/// range, and text that is no number at all.
fn query_string(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (0u32..20_000).prop_map(|n| n.to_string()),
        "[ -~]{0,12}",
        any::<String>(),
    ];
    let pair = (prop::sample::select(names), value);
    prop::collection::vec(pair, 0..6)
        .prop_map(|pairs| serde_urlencoded::to_string(pairs).expect("pairs of strings encode"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn history_parameters_give_a_bounded_page_or_say_why_not(
        query in query_string(&["limit", "offset", "before_seq", "after_seq", "min_seq", "other"])
    ) {
        let Ok(params) = serde_urlencoded::from_str::<HistoryParams>(&query) else {
            return Ok(());
        };
        match params.page() {
            Ok(page) => {
                prop_assert!((1..=200).contains(&page.limit));
                prop_assert!(page.offset <= MAX_OFFSET);
                prop_assert_eq!(page.offset, params.offset.unwrap_or(0));
                prop_assert_eq!(page.before_seq, params.before_seq.unwrap_or(i64::MAX));
            }
            Err(QueryError::InvalidParameter(detail)) => {
                prop_assert_eq!(detail, OFFSET_TOO_DEEP);
                prop_assert!(params.offset.unwrap_or(0) > MAX_OFFSET);
            }
            Err(other) => return Err(TestCaseError::fail(format!("refused with {other:?}"))),
        }
    }

    #[test]
    fn room_listing_parameters_give_a_bounded_page_or_say_why_not(
        query in query_string(&["limit", "after", "other"])
    ) {
        let Ok(params) = serde_urlencoded::from_str::<RoomsParams>(&query) else {
            return Ok(());
        };
        match params.page() {
            Ok(page) => {
                let paged = params.limit.is_some() || params.after.is_some();
                prop_assert_eq!(page.limit.is_some(), paged);
                prop_assert!(page.limit.is_none_or(|limit| (1..=MAX_ROOMS_PAGE).contains(&limit)));
            }
            Err(QueryError::InvalidParameter(detail)) => prop_assert_eq!(detail, NOT_A_CURSOR),
            Err(other) => return Err(TestCaseError::fail(format!("refused with {other:?}"))),
        }
    }

    #[test]
    fn a_room_cursor_reads_back_as_itself(
        micros in 0i64..=9_999_999_999_999_999,
        id in any::<u128>(),
    ) {
        let cursor = RoomCursor {
            created_at: DateTime::from_timestamp_micros(micros).expect("in range"),
            id: Uuid::from_u128(id),
        };
        let encoded = cursor.encode();
        prop_assert!(Regex::new(CURSOR_PATTERN).unwrap().is_match(&encoded).unwrap());
        prop_assert_eq!(RoomCursor::decode(&encoded).ok(), Some(cursor));
    }

    #[test]
    fn a_cursor_is_read_exactly_when_its_published_pattern_matches(
        raw in prop_oneof![
            "(0|[1-9][0-9]{0,16}|0[0-9])\\.[0-9a-fA-F-]{34,37}",
            "[0-9]{1,17}\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n?",
            any::<String>(),
        ]
    ) {
        let published = Regex::new(CURSOR_PATTERN).unwrap().is_match(&raw).unwrap();
        prop_assert_eq!(RoomCursor::decode(&raw).is_ok(), published, "{:?}", raw);
    }
}
