//! The query parameters of the history and the room listing, as properties: any query string
//! is either refused at parsing or answered with a page within bounds, a refusal says why, and a
//! cursor this server gives reads back as itself.

use chrono::DateTime;
use proptest::prelude::*;
use uuid::Uuid;

use crate::history::{HistoryParams, MAX_OFFSET, OFFSET_TOO_DEEP};
use crate::listing::{RoomCursor, RoomsParams, MAX_ROOMS_PAGE, NOT_A_CURSOR};
use crate::QueryError;

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
        micros in -8_000_000_000_000_000i64..8_000_000_000_000_000,
        id in any::<u128>(),
    ) {
        let cursor = RoomCursor {
            created_at: DateTime::from_timestamp_micros(micros).expect("in range"),
            id: Uuid::from_u128(id),
        };
        let encoded = cursor.encode();
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        prop_assert_eq!(RoomCursor::decode(&encoded).ok(), Some(cursor));
    }
}
