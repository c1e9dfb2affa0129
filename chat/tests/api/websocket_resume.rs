//! A client that was away picks up exactly where it left off: what it missed, once, in order,
//! then live.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::sockets::{having, message_contents, message_seqs};

#[tokio::test]
async fn member_who_missed_100_messages_gets_them_once_in_order_then_live_ones() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    for dialect in ["", "v=2"] {
        let socket = app.socket(&room, &bob, dialect).await;
        socket.close().await;
        let since = app.last_seq(&room).await;
        for i in 0..100 {
            app.post_message(&alice, &room, &format!("missed {i}"))
                .await;
        }
        let mut socket = app
            .open_socket(&room, &bob, &format!("{dialect}&since={since}"))
            .await;
        let caught_up = socket.ready(dialect == "v=2").await;
        let expected: Vec<_> = (0..100).map(|i| format!("missed {i}")).collect();
        assert_eq!(
            message_contents(&caught_up),
            expected,
            "dialect {dialect:?}"
        );
        let seqs = message_seqs(&caught_up);
        assert_eq!(seqs, ((since + 1)..=(since + 100)).collect::<Vec<_>>());

        app.post_message(&alice, &room, "live").await;
        let next = socket.next_of("message").await;
        assert_eq!(next["content"], "live");
        assert_eq!(next["seq"], since + 101);
    }
}

#[tokio::test]
async fn a_resume_gives_json_clients_membership_events_too_and_seed_clients_only_messages() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let room = app.room(&alice, "lobby", None).await;
    app.post_message(&alice, &room, "one").await;
    app.join(&carol, &room, None).await;
    app.post_message(&alice, &room, "two").await;

    let mut json = app.open_socket(&room, &alice, "v=2&since=0").await;
    let frames = json.ready(true).await;
    let kinds: Vec<_> = frames
        .iter()
        .map(|frame| {
            (
                frame["type"].as_str().unwrap(),
                frame["seq"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("member_joined", 2),
            ("message", 3),
            ("member_joined", 4),
            ("message", 5)
        ]
    );

    let mut seed = app.open_socket(&room, &alice, "since=0").await;
    let frames = seed.ready(false).await;
    assert_eq!(message_contents(&frames), ["one", "two"]);
    assert_eq!(frames.len(), 2);
}

#[tokio::test]
async fn a_resume_frame_delivers_again_what_came_after_the_given_seq() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut socket = app.socket(&room, &alice, "v=2").await;
    for i in 0..5 {
        app.post_message(&alice, &room, &format!("m{i}")).await;
    }
    let live = socket.frames_until(having(&[("message", 5)])).await;
    assert_eq!(message_seqs(&live), [3, 4, 5, 6, 7]);

    socket
        .send_json(json!({"type": "resume", "since": 4}))
        .await;
    let again = socket.frames_until(having(&[("message", 3)])).await;
    assert_eq!(message_seqs(&again), [5, 6, 7]);
    app.post_message(&alice, &room, "after").await;
    let next = socket.next_of("message").await;
    assert_eq!(
        (next["seq"].as_i64(), next["content"].as_str()),
        (Some(8), Some("after"))
    );
}

#[tokio::test]
async fn a_cursor_ahead_of_the_room_just_means_live_from_now() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut socket = app.open_socket(&room, &alice, "v=2&since=9999").await;
    assert!(socket.ready(true).await.is_empty());
    app.post_message(&alice, &room, "hello").await;
    assert_eq!(socket.next_of("message").await["seq"], 3);
}

#[tokio::test]
async fn a_cursor_past_any_sequence_there_can_be_catches_up_nothing_and_the_server_serves_on() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    app.post_message(&alice, &room, "before").await;

    // Past the largest sequence there can be: refused, in either dialect, with the reason.
    for dialect in ["", "v=2"] {
        let mut refused = app
            .open_socket(
                &room,
                &alice,
                &format!("{dialect}&since=18446744073709551615"),
            )
            .await;
        assert_eq!(
            refused.close_frame().await,
            (
                4000,
                "since must be a room sequence, from 0 to 9223372036854775807".to_owned()
            ),
            "dialect {dialect:?}"
        );
    }
    // The largest one is past the room's end: nothing to catch up.
    let mut far_ahead = app
        .open_socket(&room, &alice, "v=2&since=9223372036854775807")
        .await;
    assert!(
        far_ahead.ready(true).await.is_empty(),
        "nothing to catch up"
    );
    // A resume frame past it is refused, and the socket stays open.
    far_ahead
        .send_json(json!({"type": "resume", "since": 9223372036854775808_u64}))
        .await;
    let refused = far_ahead.next_of("error").await;
    assert_eq!(refused["code"], "invalid_frame");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("a room sequence, from 0 to 9223372036854775807"),
        "{refused}"
    );
    far_ahead
        .send_json(json!({"type": "resume", "since": i64::MAX}))
        .await;

    let mut other = app.socket(&room, &bob, "v=2").await;
    app.post_message(&alice, &room, "still serving").await;
    assert_eq!(other.next_of("message").await["content"], "still serving");
    let next = far_ahead.next_of("message").await;
    assert_eq!(next["content"], "still serving", "once, live");
}
