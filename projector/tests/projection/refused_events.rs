//! An event the read tables cannot hold is dead-lettered with the reason, and the events after
//! it, of its room and of others, are projected all the same: live, and when catching up.

use chrono::{TimeZone, Utc};
use domain::{MessagePosted, Role, RoomEvent, UserEvent};
use testkit::seed::StoredEvent;
use uuid::Uuid;

use crate::helpers::{room_story, System};

/// Two rooms' stories and a registration, the first room's with two events the projection
/// cannot apply amid it.
struct History {
    room: Uuid,
    other_room: Uuid,
    events: Vec<StoredEvent>,
}

/// The sequences of the first room's unappliable events.
const TOO_OLD: i64 = 4;
const HOLDS_NUL: i64 = 5;

fn history() -> History {
    let room = Uuid::new_v4();
    let other_room = Uuid::new_v4();
    let bob = Uuid::new_v4();
    let now = Utc::now();
    let posted = |content: &str, posted_at| {
        RoomEvent::MessagePosted(MessagePosted {
            message_id: Uuid::new_v4(),
            user_id: bob,
            username: "bob".into(),
            content: content.into(),
            client_msg_id: None,
            posted_at,
            is_bot: false,
            reply_to: None,
            mentions: Vec::new(),
        })
    };
    // chrono holds dates PostgreSQL cannot (before 4713 BC): the event decodes, and only the
    // database refuses it, "timestamp out of range".
    let too_old = Utc.with_ymd_and_hms(-5000, 1, 1, 0, 0, 0).unwrap();
    let mut events = room_story(room);
    let rest_of_room = [
        posted("from before the calendar", too_old),
        // PostgreSQL's text cannot hold NUL either; the projector turns this one away itself.
        posted("a \0 inside", now),
        RoomEvent::MemberJoined {
            user_id: bob,
            username: "bob".into(),
            role: Role::Member,
            joined_at: now,
        },
        posted("after them", now),
    ];
    events.extend(
        rest_of_room
            .iter()
            .zip(TOO_OLD..)
            .map(|(event, sequence)| StoredEvent::room(room, sequence, event)),
    );
    events.extend(room_story(other_room));
    events.push(StoredEvent::room(
        other_room,
        4,
        &posted("meanwhile elsewhere", now),
    ));
    events.push(StoredEvent::user(&UserEvent::UserRegistered {
        user_id: Uuid::new_v4(),
        username: "carol".into(),
        password_hash: "x".into(),
        registered_at: now,
    }));
    History {
        room,
        other_room,
        events,
    }
}

async fn message_seqs(system: &System, room: Uuid) -> Vec<i64> {
    sqlx::query_scalar("SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq")
        .bind(room)
        .fetch_all(&system.pool)
        .await
        .unwrap()
}

/// Everything but the two refused events is projected, once; they wait in the dead-letter
/// queue with their reasons.
async fn assert_set_aside(system: &System, history: &History) {
    system.fully_projected().await;
    assert_eq!(message_seqs(system, history.room).await, [3, 7]);
    assert_eq!(message_seqs(system, history.other_room).await, [3, 4]);
    let room = history.room;
    assert_eq!(
        system
            .count(&format!(
                "SELECT member_count::bigint FROM rooms WHERE id = '{room}'"
            ))
            .await,
        2
    );
    assert_eq!(
        system
            .count(&format!(
                "SELECT count(*) FROM room_members WHERE room_id = '{room}'"
            ))
            .await,
        2
    );
    assert_eq!(
        system
            .count("SELECT count(*) FROM users WHERE username = 'carol'")
            .await,
        1
    );

    let letters = system.dead_letters_eventually(2).await;
    let reason = |sequence: i64| {
        letters
            .iter()
            .find(|letter| {
                letter.envelope.as_ref().is_some_and(|event| {
                    event.aggregate_id == room.to_string() && event.sequence == sequence
                })
            })
            .map(|letter| letter.reason.as_str())
            .unwrap_or_else(|| panic!("event {sequence} is not dead-lettered: {letters:?}"))
    };
    let too_old = reason(TOO_OLD);
    assert!(
        too_old.contains("timestamp out of range") && too_old.contains("22008"),
        "{too_old}"
    );
    assert!(reason(HOLDS_NUL).contains("NUL"), "{}", reason(HOLDS_NUL));
}

#[tokio::test]
async fn events_the_read_tables_refuse_are_dead_lettered_and_the_rest_projected_live() {
    let system = System::new().await;
    let _relay = system.start_relay();
    let _projector = system.start_live_projector().await;
    let history = history();
    system.write(&history.events).await;
    assert_set_aside(&system, &history).await;
}

#[tokio::test]
async fn events_the_read_tables_refuse_are_dead_lettered_and_the_rest_projected_on_catching_up() {
    // No relay runs: only catching up from the store brings the events.
    let system = System::new().await;
    let history = history();
    system.write(&history.events).await;
    let _projector = system.start_projector();
    assert_set_aside(&system, &history).await;
    // A rebuild sets them aside alike, rather than failing on them.
    let report = projector::verify(&system.pool, |_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
}
