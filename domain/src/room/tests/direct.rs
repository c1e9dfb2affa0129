//! The direct room of two people.

use super::*;

fn open(opener: &str, other: &str) -> RoomCommand {
    RoomCommand::OpenDirect {
        opener: actor(opener),
        other: actor(other),
        at: at(),
    }
}

/// The events of alice opening her direct room with bob.
fn opened_by_alice() -> Vec<RoomEvent> {
    let (alice, bob) = (actor("alice"), actor("bob"));
    let (first, second) = if alice.user_id <= bob.user_id {
        ("alice", "bob")
    } else {
        ("bob", "alice")
    };
    vec![
        RoomEvent::RoomCreated {
            room_id: direct_room_id(alice.user_id, bob.user_id),
            name: format!("{first} & {second}"),
            is_private: true,
            password_hash: None,
            created_by: alice.user_id,
            created_at: at(),
            kind: RoomKind::Direct,
        },
        joined("alice", Role::Member),
        joined("bob", Role::Member),
    ]
}

#[test]
fn opening_a_direct_room_makes_both_people_members_and_neither_its_owner() {
    room()
        .given_no_previous_events()
        .when(open("alice", "bob"))
        .then_expect_events(opened_by_alice());
}

#[test]
fn opening_it_again_from_either_side_records_nothing() {
    for (opener, other) in [("alice", "bob"), ("bob", "alice")] {
        room()
            .given(opened_by_alice())
            .when(open(opener, other))
            .then_expect_events(vec![]);
    }
}

#[test]
fn nobody_opens_a_direct_room_with_themselves() {
    room()
        .given_no_previous_events()
        .when(open("alice", "alice"))
        .then_expect_error(RoomError::DirectWithSelf);
}

#[test]
fn its_id_is_the_pairs_whoever_opens_it_and_no_named_rooms() {
    let (alice, bob, carol) = (actor("alice"), actor("bob"), actor("carol"));
    let id = direct_room_id(alice.user_id, bob.user_id);
    assert_eq!(id, direct_room_id(bob.user_id, alice.user_id));
    assert_ne!(id, direct_room_id(alice.user_id, carol.user_id));
    assert_ne!(id, RoomName::parse("alice & bob").unwrap().room_id());
}

#[test]
fn nobody_joins_a_direct_room_not_even_with_a_password_or_as_a_member() {
    for joiner in ["carol", "alice"] {
        room()
            .given(opened_by_alice())
            .when(join(joiner, Some("sesame")))
            .then_expect_error(RoomError::DirectRoom);
    }
}

#[test]
fn neither_member_leaves_a_direct_room() {
    room()
        .given(opened_by_alice())
        .when(leave("bob"))
        .then_expect_error(RoomError::DirectRoom);
}

#[test]
fn its_members_post_to_it_and_others_do_not() {
    let message = Uuid::from_u128(7);
    room()
        .given(opened_by_alice())
        .when(post("bob", message, "hi", None))
        .then_expect_events(vec![posted("bob", message, "hi", None)]);
    room()
        .given(opened_by_alice())
        .when(post("carol", message, "hi", None))
        .then_expect_error(RoomError::NotAMember);
}

#[test]
fn a_rooms_kind_survives_its_snapshot_and_older_snapshots_are_of_named_rooms() {
    let direct = replay(opened_by_alice());
    assert_eq!(direct.info().unwrap().kind, RoomKind::Direct);
    let snapshot = serde_json::to_value(&direct).unwrap();
    let restored: Room = serde_json::from_value(snapshot.clone()).unwrap();
    assert_eq!(restored.info().unwrap().kind, RoomKind::Direct);

    // A snapshot taken before rooms had kinds is of a named room.
    let mut old = serde_json::to_value(replay(public_lobby())).unwrap();
    old["info"].as_object_mut().unwrap().remove("kind");
    let restored: Room = serde_json::from_value(old).unwrap();
    assert_eq!(restored.info().unwrap().kind, RoomKind::Room);
}
