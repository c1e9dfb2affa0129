use bus::EventEnvelope;
use chrono::Utc;
use domain::{MessagePosted, Role, RoomEvent};
use testkit::seed::StoredEvent;
use uuid::Uuid;

use crate::helpers::{mixed, room_story, System};

const BOGUS_EVENTS: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
VALUES ('Room', $1, 1, 'RoomArchived', '1', '{\"RoomArchived\": {}}', '{}'),
       ('Room', $2, 1, 'MessagePosted', '1', '{\"MessagePosted\": {\"oops\": true}}', '{}'),
       ('Invoice', $3, 1, 'InvoiceSent', '1', '{\"InvoiceSent\": {}}', '{}')";

#[tokio::test]
async fn unknown_and_corrupt_events_are_dead_lettered_with_a_reason_and_later_events_project() {
    let system = System::new().await;
    let _relay = system.start_relay();
    let _projector = system.start_live_projector().await;
    sqlx::query(BOGUS_EVENTS)
        .bind(Uuid::new_v4().to_string())
        .bind(Uuid::new_v4().to_string())
        .bind(Uuid::new_v4().to_string())
        .execute(&system.pool)
        .await
        .unwrap();
    // An envelope on the bus whose payload is no event at all.
    let mut garbage = crate::helpers::user_envelope("garbage");
    garbage.payload = serde_json::json!("not an event");
    system.publish(&[garbage]).await;
    let shape = mixed(400);
    system.seed(&shape).await;
    system
        .eventually("SELECT count(*) FROM messages", shape.messages as i64)
        .await;

    let letters = system.dead_letters_eventually(4).await;
    let reasons: Vec<&str> = letters.iter().map(|l| l.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("unknown event type RoomArchived")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("malformed MessagePosted")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("unknown aggregate type Invoice")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("not a UserRegistered event")),
        "{reasons:?}"
    );
    let archived: Vec<&EventEnvelope> = letters
        .iter()
        .filter_map(|letter| letter.envelope.as_ref())
        .filter(|event| event.event_type == "RoomArchived")
        .collect();
    assert_eq!(archived.len(), 1, "the envelope travels with its reason");

    // Still unappliable: a retry sends them back, and back they come, once each.
    assert_eq!(bus::retry_dead_letters(&system.bus).await.unwrap(), 4);
    let again = system.dead_letters_eventually(4).await;
    assert!(again.iter().all(|letter| !letter.reason.is_empty()));
}

/// A room of one (its owner) whose next event, bob's join (sequence 4), was dead-lettered, and
/// whose cause is gone again: an operator's usual order before `chat dlq retry`.
async fn room_with_a_dead_lettered_join(system: &System) -> (Uuid, Uuid) {
    let room = Uuid::new_v4();
    let bob = Uuid::new_v4();
    system.write(&room_story(room)).await;
    system.fully_projected().await;
    // The simplest way to make a join fail now and apply later: a rule on room_members that it
    // breaks (a check violation, SQLSTATE 23514, which the projector dead-letters), standing for
    // whatever refused it and was put right before the retry. Dropped once the join is
    // dead-lettered.
    sqlx::query(
        "ALTER TABLE room_members ADD CONSTRAINT nobody_named_bob CHECK (username <> 'bob')",
    )
    .execute(&system.pool)
    .await
    .unwrap();
    let join = RoomEvent::MemberJoined {
        user_id: bob,
        username: "bob".into(),
        role: Role::Member,
        joined_at: Utc::now(),
    };
    system.write(&[StoredEvent::room(room, 4, &join)]).await;
    let letters = system.dead_letters_eventually(1).await;
    assert!(
        letters[0].reason.contains("nobody_named_bob"),
        "{}",
        letters[0].reason
    );
    sqlx::query("ALTER TABLE room_members DROP CONSTRAINT nobody_named_bob")
        .execute(&system.pool)
        .await
        .unwrap();
    (room, bob)
}

/// The room's member rows, and the count its row keeps.
async fn members(system: &System, room: Uuid) -> (i64, i64) {
    let rows = system
        .count(&format!(
            "SELECT count(*) FROM room_members WHERE room_id = '{room}'"
        ))
        .await;
    let member_count = system
        .count(&format!(
            "SELECT member_count::bigint FROM rooms WHERE id = '{room}'"
        ))
        .await;
    (rows, member_count)
}

#[tokio::test]
async fn a_retried_join_of_a_member_who_left_since_is_skipped() {
    let system = System::new().await;
    let _relay = system.start_relay();
    let _projector = system.start_live_projector().await;
    let (room, bob) = room_with_a_dead_lettered_join(&system).await;
    let left = RoomEvent::MemberLeft {
        user_id: bob,
        username: "bob".into(),
        left_at: Utc::now(),
    };
    system.write(&[StoredEvent::room(room, 5, &left)]).await;
    system.fully_projected().await;

    assert_eq!(bus::retry_dead_letters(&system.bus).await.unwrap(), 1);
    // The retried join is ahead of this message in the projector's queue: once the message is
    // projected, the join has been dealt with.
    let message = RoomEvent::MessagePosted(MessagePosted {
        message_id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        username: "alice".into(),
        content: "still here".into(),
        client_msg_id: None,
        posted_at: Utc::now(),
        is_bot: false,
        reply_to: None,
        mentions: Vec::new(),
    });
    system.write(&[StoredEvent::room(room, 6, &message)]).await;
    system.fully_projected().await;
    assert_eq!(members(&system, room).await, (1, 1), "bob stays gone");
    assert!(
        bus::dead_letters(&system.bus, 1)
            .await
            .unwrap()
            .letters
            .is_empty(),
        "skipped, not dead-lettered again"
    );
}

#[tokio::test]
async fn a_retried_join_nothing_overtook_is_applied() {
    let system = System::new().await;
    let _relay = system.start_relay();
    let _projector = system.start_live_projector().await;
    let (room, _) = room_with_a_dead_lettered_join(&system).await;
    assert_eq!(members(&system, room).await, (1, 1));

    assert_eq!(bus::retry_dead_letters(&system.bus).await.unwrap(), 1);
    system
        .eventually(
            &format!("SELECT count(*) FROM room_members WHERE room_id = '{room}'"),
            2,
        )
        .await;
    assert_eq!(members(&system, room).await, (2, 2));
}

#[tokio::test]
async fn the_dead_letter_queue_keeps_its_newest_letters_up_to_its_limit_and_is_read_a_page_at_a_time(
) {
    let mut system = System::new().await;
    system.bus.dead_letter_limit = 2;
    let _relay = system.start_relay();
    let _projector = system.start_live_projector().await;
    for _ in 0..5 {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata)
             VALUES ('Room', $1, 1, 'RoomArchived', '1', '{\"RoomArchived\": {}}', '{}')",
        )
        .bind(Uuid::new_v4().to_string())
        .execute(&system.pool)
        .await
        .unwrap();
    }
    // Projected after the five, in the store's order.
    system.write(&room_story(Uuid::new_v4())).await;
    system.eventually("SELECT count(*) FROM messages", 1).await;
    system.eventually("SELECT count(*) FROM outbox", 0).await;

    let page = bus::dead_letters(&system.bus, 1).await.unwrap();
    assert_eq!(page.waiting, 2, "the oldest three were dropped");
    assert_eq!(page.letters.len(), 1, "one page of one");
    assert!(page.letters[0]
        .reason
        .contains("unknown event type RoomArchived"));
}
