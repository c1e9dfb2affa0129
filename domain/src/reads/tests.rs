//! A user's read positions as given/when/then stories.

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;
use uuid::Uuid;

use super::*;
use crate::room::Actor;

fn reads() -> TestFramework<ReadPositions> {
    TestFramework::with(())
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap()
}

fn room() -> Uuid {
    Uuid::from_u128(7)
}

fn reader() -> Actor {
    Actor {
        user_id: Uuid::from_u128(1),
        username: "alice".into(),
        is_bot: false,
    }
}

fn move_to(room_id: Uuid, seq: usize) -> ReadCommand {
    ReadCommand::MoveTo {
        room_id,
        seq,
        reader: reader(),
        at: at(),
    }
}

fn moved(room_id: Uuid, seq: usize) -> ReadEvent {
    ReadEvent::ReadPositionMoved {
        room_id,
        user_id: reader().user_id,
        username: "alice".into(),
        seq,
        moved_at: at(),
    }
}

#[test]
fn a_first_read_is_recorded() {
    reads()
        .given_no_previous_events()
        .when(move_to(room(), 4))
        .then_expect_events(vec![moved(room(), 4)]);
}

#[test]
fn reading_further_moves_the_position_on() {
    reads()
        .given(vec![moved(room(), 4)])
        .when(move_to(room(), 9))
        .then_expect_events(vec![moved(room(), 9)]);
}

#[test]
fn reading_the_same_place_or_further_back_records_nothing() {
    for seq in [9, 3, 0] {
        reads()
            .given(vec![moved(room(), 4), moved(room(), 9)])
            .when(move_to(room(), seq))
            .then_expect_events(vec![]);
    }
}

#[test]
fn each_room_has_its_own_position() {
    let other = Uuid::from_u128(8);
    reads()
        .given(vec![moved(room(), 9)])
        .when(move_to(other, 2))
        .then_expect_events(vec![moved(other, 2)]);
}

#[test]
fn the_position_is_the_furthest_move_whatever_the_order_applied() {
    let mut positions = ReadPositions::default();
    positions.apply(moved(room(), 9));
    positions.apply(moved(room(), 4));
    assert_eq!(positions.position(room()), Some(9));
    assert_eq!(positions.position(Uuid::from_u128(8)), None);
}

#[test]
fn a_place_to_read_up_to_is_never_negative() {
    assert_eq!(ReadSeq::parse(0).unwrap().get(), 0);
    assert_eq!(ReadSeq::parse(i64::MAX).unwrap().get(), i64::MAX as usize);
    for seq in [-1, i64::MIN] {
        let refused = ReadSeq::parse(seq).unwrap_err();
        assert!(refused.0.contains("0 or more"), "{refused}");
    }
}
