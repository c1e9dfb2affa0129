//! The room's rules as given/when/then stories.

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;
use uuid::Uuid;

mod direct;
mod messages;

use super::aggregate::IDEMPOTENCY_WINDOW;
use super::*;
use crate::values::{ClientMsgId, MessageBody, RoomName, Username};

/// Stands in for bcrypt: a "hash" is the password with a prefix.
fn hash_of(password: &str) -> String {
    format!("hashed:{password}")
}

fn room() -> TestFramework<Room> {
    TestFramework::with(())
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap()
}

fn actor(name: &str) -> Actor {
    Actor {
        user_id: Username::parse(name).unwrap().user_id(),
        username: name.into(),
        is_bot: false,
    }
}

fn created(is_private: bool) -> RoomEvent {
    RoomEvent::RoomCreated {
        room_id: RoomName::parse("Lobby").unwrap().room_id(),
        name: "Lobby".into(),
        is_private,
        password_hash: is_private.then(|| hash_of("sesame")),
        created_by: actor("alice").user_id,
        created_at: at(),
        kind: RoomKind::Room,
    }
}

fn joined(name: &str, role: Role) -> RoomEvent {
    RoomEvent::MemberJoined {
        user_id: actor(name).user_id,
        username: name.into(),
        role,
        joined_at: at(),
    }
}

fn left(name: &str) -> RoomEvent {
    RoomEvent::MemberLeft {
        user_id: actor(name).user_id,
        username: name.into(),
        left_at: at(),
    }
}

fn posted(name: &str, message_id: Uuid, content: &str, client_msg_id: Option<&str>) -> RoomEvent {
    RoomEvent::MessagePosted(MessagePosted {
        message_id,
        user_id: actor(name).user_id,
        username: name.into(),
        content: content.into(),
        client_msg_id: client_msg_id.map(String::from),
        posted_at: at(),
        is_bot: false,
        reply_to: None,
        mentions: vec![],
    })
}

/// A public room alice created, so alice is its owner.
fn public_lobby() -> Vec<RoomEvent> {
    vec![created(false), joined("alice", Role::Owner)]
}

fn private_lobby() -> Vec<RoomEvent> {
    vec![created(true), joined("alice", Role::Owner)]
}

fn create(is_private: bool, password_hash: Option<&str>) -> RoomCommand {
    RoomCommand::Create {
        name: RoomName::parse("Lobby").unwrap(),
        is_private,
        password_hash: password_hash.map(String::from),
        creator: actor("alice"),
        at: at(),
    }
}

/// A join whose `password` was checked before it was queued, as the use case does: what the
/// command carries is the hash that password matches.
fn join(name: &str, password: Option<&str>) -> RoomCommand {
    RoomCommand::Join {
        member: actor(name),
        password_verified_for: password.map(hash_of),
        at: at(),
    }
}

fn leave(name: &str) -> RoomCommand {
    RoomCommand::Leave {
        member: actor(name),
        at: at(),
    }
}

fn post(name: &str, message_id: Uuid, content: &str, client_msg_id: Option<&str>) -> RoomCommand {
    RoomCommand::PostMessage {
        sender: actor(name),
        message_id,
        body: MessageBody::parse(content).unwrap(),
        client_msg_id: client_msg_id.map(|id| ClientMsgId::parse(id).unwrap()),
        reply_to: None,
        at: at(),
    }
}

fn replay(events: Vec<RoomEvent>) -> Room {
    let mut room = Room::default();
    events.into_iter().for_each(|event| room.apply(event));
    room
}

#[test]
fn creating_a_public_room_makes_the_creator_its_owner() {
    room()
        .given_no_previous_events()
        .when(create(false, None))
        .then_expect_events(public_lobby());
}

#[test]
fn a_public_room_keeps_no_password_even_when_given_one() {
    room()
        .given_no_previous_events()
        .when(create(false, Some("hashed:ignored")))
        .then_expect_events(public_lobby());
}

#[test]
fn creating_a_private_room_stores_its_password_hash() {
    room()
        .given_no_previous_events()
        .when(create(true, Some("hashed:sesame")))
        .then_expect_events(private_lobby());
}

#[test]
fn a_private_room_without_a_password_is_refused() {
    room()
        .given_no_previous_events()
        .when(create(true, None))
        .then_expect_error(RoomError::PrivateRoomRequiresPassword);
}

#[test]
fn a_room_name_already_taken_is_refused() {
    room()
        .given(public_lobby())
        .when(create(false, None))
        .then_expect_error(RoomError::NameTaken);
}

#[test]
fn joining_a_public_room_needs_no_password() {
    room()
        .given(public_lobby())
        .when(join("bob", None))
        .then_expect_events(vec![joined("bob", Role::Member)]);
}

#[test]
fn joining_a_private_room_with_its_password_succeeds() {
    room()
        .given(private_lobby())
        .when(join("bob", Some("sesame")))
        .then_expect_events(vec![joined("bob", Role::Member)]);
}

#[test]
fn joining_a_private_room_with_a_wrong_or_missing_password_is_refused() {
    for password in [Some("guess"), None] {
        room()
            .given(private_lobby())
            .when(join("bob", password))
            .then_expect_error(RoomError::WrongPassword);
    }
}

#[test]
fn a_room_needs_nothing_slow_to_decide_so_no_password_is_checked_in_its_queue() {
    fn decided_without_services<A: Aggregate<Services = ()>>() {}
    decided_without_services::<Room>();
}

#[test]
fn the_password_to_check_before_joining_is_the_rooms_current_hash_for_non_members_only() {
    let private = replay(private_lobby());
    let bob = actor("bob").user_id;
    assert_eq!(
        private.password_hash_to_join(bob),
        Ok(Some("hashed:sesame"))
    );
    let alice = actor("alice").user_id;
    assert_eq!(private.password_hash_to_join(alice), Ok(None), "a member");
    let public = replay(public_lobby());
    assert_eq!(public.password_hash_to_join(bob), Ok(None));
    assert_eq!(
        Room::default().password_hash_to_join(bob),
        Err(RoomError::NotFound)
    );
}

#[test]
fn a_password_verified_against_another_hash_is_refused() {
    room()
        .given(private_lobby())
        .when(RoomCommand::Join {
            member: actor("bob"),
            password_verified_for: Some("hashed:an older password".into()),
            at: at(),
        })
        .then_expect_error(RoomError::WrongPassword);
}

#[test]
fn a_member_joining_again_records_nothing_even_with_a_wrong_password() {
    room()
        .given(private_lobby())
        .when(join("alice", Some("wrong")))
        .then_expect_events(vec![]);
}

#[test]
fn joining_a_room_that_does_not_exist_is_refused() {
    room()
        .given_no_previous_events()
        .when(join("bob", None))
        .then_expect_error(RoomError::NotFound);
}

#[test]
fn a_member_leaves() {
    let mut history = public_lobby();
    history.push(joined("bob", Role::Member));
    room()
        .given(history)
        .when(leave("bob"))
        .then_expect_events(vec![left("bob")]);
}

#[test]
fn leaving_a_room_one_is_not_in_is_refused() {
    room()
        .given(public_lobby())
        .when(leave("bob"))
        .then_expect_error(RoomError::NotAMember);
}

#[test]
fn when_the_last_owner_leaves_the_longest_standing_member_becomes_owner() {
    let mut history = public_lobby();
    history.push(joined("bob", Role::Member));
    history.push(joined("carol", Role::Member));
    room()
        .given(history)
        .when(leave("alice"))
        .then_expect_events(vec![
            left("alice"),
            RoomEvent::MemberRoleChanged {
                user_id: actor("bob").user_id,
                username: "bob".into(),
                role: Role::Owner,
                changed_at: at(),
            },
        ]);
}

#[test]
fn a_room_whose_last_member_left_stays_and_can_be_joined() {
    let mut history = public_lobby();
    history.push(left("alice"));
    room()
        .given(history)
        .when(join("bob", None))
        .then_expect_events(vec![joined("bob", Role::Member)]);
}

#[test]
fn a_member_posts_a_message() {
    let id = Uuid::from_u128(7);
    room()
        .given(public_lobby())
        .when(post("alice", id, "  hello  ", Some("c-1")))
        .then_expect_events(vec![posted("alice", id, "hello", Some("c-1"))]);
}

#[test]
fn a_non_member_cannot_post() {
    room()
        .given(public_lobby())
        .when(post("bob", Uuid::from_u128(7), "hi", None))
        .then_expect_error(RoomError::NotAMember);
}

#[test]
fn posting_to_a_room_that_does_not_exist_is_refused() {
    room()
        .given_no_previous_events()
        .when(post("alice", Uuid::from_u128(7), "hi", None))
        .then_expect_error(RoomError::NotFound);
}

#[test]
fn empty_or_oversized_bodies_cannot_even_be_built() {
    assert!(MessageBody::parse("   ").is_err());
    assert!(MessageBody::parse(&"x".repeat(MessageBody::MAX_CHARS + 1)).is_err());
}

#[test]
fn a_repeated_client_msg_id_posts_nothing_whatever_the_new_content() {
    let mut history = public_lobby();
    history.push(posted("alice", Uuid::from_u128(1), "first", Some("c-1")));
    room()
        .given(history)
        .when(post("alice", Uuid::from_u128(2), "changed", Some("c-1")))
        .then_expect_events(vec![]);
}

#[test]
fn another_senders_equal_client_msg_id_is_a_different_message() {
    let mut history = public_lobby();
    history.push(joined("bob", Role::Member));
    history.push(posted("alice", Uuid::from_u128(1), "first", Some("c-1")));
    let id = Uuid::from_u128(2);
    room()
        .given(history)
        .when(post("bob", id, "mine", Some("c-1")))
        .then_expect_events(vec![posted("bob", id, "mine", Some("c-1"))]);
}

#[test]
fn the_room_remembers_where_a_repeated_send_first_landed() {
    let mut history = public_lobby();
    history.push(posted("alice", Uuid::from_u128(1), "first", Some("c-1")));
    let room = replay(history);
    let original = room.recent_send(actor("alice").user_id, "c-1").unwrap();
    assert_eq!(original.message_id, Uuid::from_u128(1));
    assert_eq!(original.seq, 3, "created, owner joined, then the message");
    assert_eq!(room.last_seq(), 3);
}

#[test]
fn the_idempotency_window_forgets_the_oldest_ids() {
    let mut history = public_lobby();
    for n in 0..=IDEMPOTENCY_WINDOW {
        let id = format!("c-{n}");
        history.push(posted("alice", Uuid::from_u128(n as u128), "m", Some(&id)));
    }
    let room = replay(history);
    let alice = actor("alice").user_id;
    assert!(room.recent_send(alice, "c-0").is_none());
    assert!(room.recent_send(alice, "c-1").is_some());
    assert!(room
        .recent_send(alice, &format!("c-{IDEMPOTENCY_WINDOW}"))
        .is_some());
}

#[test]
fn a_message_of_version_1_reads_and_writes_as_version_2() {
    let stored = serde_json::json!({"MessagePosted": {
        "message_id": "00000000-0000-0000-0000-000000000001",
        "user_id": "00000000-0000-0000-0000-000000000002",
        "username": "alice",
        "content": "hi",
        "client_msg_id": null,
        "posted_at": "2026-01-02T03:04:05Z"
    }});
    let event: RoomEvent = serde_json::from_value(stored.clone()).unwrap();
    let RoomEvent::MessagePosted(posted) = &event else {
        panic!("read as {event:?}")
    };
    assert_eq!(posted.content, "hi");
    assert!(!posted.is_bot, "stored before bots existed: a person's");
    let mut version_2 = stored;
    version_2["MessagePosted"]["reply_to"] = serde_json::Value::Null;
    version_2["MessagePosted"]["mentions"] = serde_json::json!([]);
    version_2["MessagePosted"]["is_bot"] = false.into();
    assert_eq!(serde_json::to_value(&event).unwrap(), version_2);
    assert_eq!(cqrs_es::DomainEvent::event_version(&event), "2");
}
