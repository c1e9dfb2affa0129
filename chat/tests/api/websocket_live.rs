//! People in a room see what is posted as it happens, in either dialect, once and in order.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::sockets::{having, message_contents, message_seqs, presence_change};

#[tokio::test]
async fn seed_and_json_clients_receive_every_message_once_in_sequence_order() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let mut seed = app.socket(&room, &alice, "").await;
    let mut json = app.socket(&room, &bob, "v=2").await;

    // Sent three ways at once: v1 text frames, v2 send frames and REST posts.
    let rest = (0..20).map(|i| app.post_message(&alice, &room, &format!("rest {i}")));
    let rest = tokio::spawn(futures::future::join_all(rest));
    for i in 0..20 {
        seed.send_text(&format!("seed {i}")).await;
        json.send_json(json!({"type": "send", "content": format!("json {i}"), "client_msg_id": format!("c{i}")}))
            .await;
    }
    for response in rest.await.unwrap() {
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    let seed_frames = seed.frames_until(having(&[("message", 60)])).await;
    let json_frames = json
        .frames_until(having(&[("message", 60), ("ack", 20)]))
        .await;
    for frames in [&seed_frames, &json_frames] {
        let seqs = message_seqs(frames);
        assert!(
            seqs.windows(2).all(|pair| pair[1] == pair[0] + 1),
            "{seqs:?}"
        );
        let contents: HashSet<_> = message_contents(frames).into_iter().collect();
        assert_eq!(contents.len(), 60, "every message exactly once");
    }
    assert!(
        seed_frames
            .iter()
            .all(|frame| frame["type"] == "message" || frame["type"] == "system"),
        "a v1 socket gets message and system frames only: {seed_frames:?}"
    );

    // Nothing more is on its way: the next message each socket sees is the next one posted.
    app.post_message(&alice, &room, "last").await;
    for socket in [&mut seed, &mut json] {
        let next = socket.next_of("message").await;
        assert_eq!(next["content"], "last");
    }
}

#[tokio::test]
async fn a_socket_opened_right_after_a_rest_join_is_admitted() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", Some("sesame")).await;
    app.join(&bob, &room, Some("sesame")).await;
    let mut socket = app.socket(&room, &bob, "v=2").await;
    app.post_message(&alice, &room, "welcome").await;
    assert_eq!(socket.next_of("message").await["content"], "welcome");
}

#[tokio::test]
async fn json_clients_see_membership_changes_with_their_place_in_the_sequence() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut json = app.socket(&room, &alice, "v=2").await;
    let mut seed = app.socket(&room, &alice, "").await;

    app.post_message(&alice, &room, "before").await;
    app.join(&carol, &room, None).await;
    app.post_message(&alice, &room, "after").await;

    let frames = json.frames_until(|frame| frame["content"] == "after").await;
    let stream: Vec<_> = frames
        .iter()
        .filter(|frame| frame["seq"].is_i64())
        .map(|frame| {
            (
                frame["type"].as_str().unwrap(),
                frame["seq"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stream,
        [("message", 3), ("member_joined", 4), ("message", 5)]
    );
    let joined = &frames[frames.len() - 2];
    assert_eq!(joined["username"], "carol");
    assert_eq!(joined["role"], "member");

    let seed_frames = seed.frames_until(|frame| frame["content"] == "after").await;
    assert_eq!(
        message_seqs(&seed_frames),
        [3, 5],
        "v1 sockets get messages only"
    );
}

#[tokio::test]
async fn presence_and_typing_reach_the_rooms_other_sockets() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let mut watcher = app.open_socket(&room, &alice, "v=2").await;
    let snapshot = watcher.next_of("presence").await;
    assert_eq!(
        snapshot["users"],
        json!([{"user_id": snapshot["users"][0]["user_id"], "username": "alice"}])
    );
    let mut seed = app.socket(&room, &alice, "").await;

    let mut bobs = app.open_socket(&room, &bob, "v=2").await;
    let everyone = bobs.next_of("presence").await;
    let names: Vec<_> = everyone["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    watcher
        .frames_until(|frame| presence_change(frame, "joined", "bob"))
        .await;
    assert_eq!(seed.json().await["content"], "bob joined");

    bobs.send_json(json!({"type": "typing"})).await;
    let typing = watcher.next_of("typing").await;
    assert_eq!(typing["username"], "bob");
    bobs.send_json(json!({"type": "ping"})).await;
    let before_pong = bobs.frames_until(|frame| frame["type"] == "pong").await;
    assert!(
        before_pong.iter().all(|frame| frame["type"] != "typing"),
        "one's own typing is not echoed back: {before_pong:?}"
    );

    bobs.close().await;
    watcher
        .frames_until(|frame| presence_change(frame, "left", "bob"))
        .await;
    let left = seed.json().await;
    assert_eq!(left["type"], "system");
    assert_eq!(left["content"], "bob left");
    assert_eq!(left["username"], "System");
}

#[tokio::test]
async fn a_member_who_leaves_the_room_is_disconnected_with_4003() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", Some("sesame")).await;
    app.join(&bob, &room, Some("sesame")).await;
    let mut socket = app.socket(&room, &bob, "v=2").await;
    let response = app
        .post_json(&format!("/rooms/{room}/leave"), Some(&bob), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(socket.next_of("member_left").await["username"], "bob");
    let (code, _) = socket.closed().await;
    assert_eq!(code, 4003);
    app.post_message(&alice, &room, "secret").await;
}
