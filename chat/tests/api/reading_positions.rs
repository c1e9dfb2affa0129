//! Read positions: a member marks a room read up to a `seq`; their rooms say how far they read
//! and how many messages of others they have not, the room's members see how far everyone
//! read, and nothing else may mark or see it.

use std::time::Duration;

use futures::StreamExt;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_with, TestApp};

/// Marks `room` read up to `seq` (any JSON) as the holder of `token`.
pub async fn mark(app: &TestApp, token: &str, room: &str, seq: Value) -> Response {
    app.call(
        Method::POST,
        &format!("/rooms/{room}/read"),
        token,
        Some(json!({ "seq": seq })),
    )
    .await
}

pub async fn mark_read(app: &TestApp, token: &str, room: &str, seq: i64) {
    let response = mark(app, token, room, json!(seq)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

/// The room as `GET /users/me/rooms` lists it to the holder of `token`.
pub async fn my_room(app: &TestApp, token: &str, room: &str) -> Value {
    let rooms = app.get_json("/users/me/rooms", Some(token)).await;
    rooms
        .as_array()
        .unwrap()
        .iter()
        .find(|listed| listed["id"] == room)
        .cloned()
        .unwrap_or_else(|| panic!("{room} is not among {rooms}"))
}

/// Waits (up to 20 s: moves are coalesced for a second, and projected after) until the holder
/// of `token` has `(last_read_seq, unread)` in `room`, and asserts it.
pub async fn eventually_read(app: &TestApp, token: &str, room: &str, expected: (i64, i64)) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let listed = my_room(app, token, room).await;
        let seen = (
            listed["last_read_seq"].as_i64().unwrap(),
            listed["unread"].as_i64().unwrap(),
        );
        if seen == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "(last_read_seq, unread) stayed {seen:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Posts as the holder of `token`; answers the message's id and seq.
pub async fn post(app: &TestApp, token: &str, room: &str, content: &str) -> (String, i64) {
    let response = app.post_message(token, room, content).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let message: Value = response.json().await.unwrap();
    (
        message["id"].as_str().unwrap().to_owned(),
        message["seq"].as_i64().unwrap(),
    )
}

/// Each member's `last_read_seq` as `GET /rooms/{room}/members` shows it to `token`'s holder
/// (`None` when it is not shown).
pub async fn receipts(
    app: &TestApp,
    token: Option<&str>,
    room: &str,
) -> Vec<(String, Option<i64>)> {
    let members = app.get_json(&format!("/rooms/{room}/members"), token).await;
    members
        .as_array()
        .unwrap()
        .iter()
        .map(|member| {
            (
                member["username"].as_str().unwrap().to_owned(),
                member["last_read_seq"].as_i64(),
            )
        })
        .collect()
}

#[tokio::test]
async fn unread_counts_the_messages_of_others_after_the_position_that_are_not_deleted() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let joined = app.last_seq(&room).await;
    eventually_read(&app, &bob, &room, (joined, 0)).await;

    let mut posted = Vec::new();
    for n in 1..=3 {
        posted.push(post(&app, &alice, &room, &format!("from alice {n}")).await);
    }
    eventually_read(&app, &bob, &room, (joined, 3)).await;
    let (_, own) = post(&app, &bob, &room, "from bob").await;
    let alice_joined = my_room(&app, &alice, &room).await["last_read_seq"]
        .as_i64()
        .unwrap();
    eventually_read(&app, &alice, &room, (alice_joined, 1)).await;
    eventually_read(&app, &bob, &room, (joined, 3)).await;

    let (deleted, _) = &posted[1];
    let path = format!("/rooms/{room}/messages/{deleted}");
    let response = app.call(Method::DELETE, &path, &alice, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    eventually_read(&app, &bob, &room, (joined, 2)).await;

    mark_read(&app, &bob, &room, posted[0].1).await;
    eventually_read(&app, &bob, &room, (posted[0].1, 1)).await;
    mark_read(&app, &bob, &room, own).await;
    eventually_read(&app, &bob, &room, (own, 0)).await;
    // Further back changes nothing.
    mark_read(&app, &bob, &room, posted[0].1).await;
    mark_read(&app, &bob, &room, 0).await;
    post(&app, &alice, &room, "once more").await;
    eventually_read(&app, &bob, &room, (own, 1)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    eventually_read(&app, &bob, &room, (own, 1)).await;
}

#[tokio::test]
async fn a_seq_past_the_end_stands_for_the_latest_and_nothing_read_is_unread_again() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    post(&app, &alice, &room, "one").await;
    post(&app, &alice, &room, "two").await;
    let last = app.last_seq(&room).await;

    mark_read(&app, &bob, &room, i64::MAX).await;
    eventually_read(&app, &bob, &room, (last, 0)).await;
    let (_, three) = post(&app, &alice, &room, "three").await;
    eventually_read(&app, &bob, &room, (last, 1)).await;
    mark_read(&app, &bob, &room, three + 1000).await;
    eventually_read(&app, &bob, &room, (three, 0)).await;
}

#[tokio::test]
async fn the_count_stops_at_999() {
    let app = spawn_app_with(&["--send-rate", "0"]).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "busy", None).await;
    app.join(&bob, &room, None).await;
    let statuses: Vec<StatusCode> = futures::stream::iter(0..1001)
        .map(|n| app.post_message(&alice, &room, &format!("message {n}")))
        .buffered(16)
        .map(|response| response.status())
        .collect()
        .await;
    assert!(statuses.iter().all(|status| *status == StatusCode::CREATED));
    let joined = my_room(&app, &bob, &room).await["last_read_seq"]
        .as_i64()
        .unwrap();
    eventually_read(&app, &bob, &room, (joined, 999)).await;
    // 1,001 messages: two read leave 999, three read leave 998.
    let first_two = joined + 2;
    mark_read(&app, &bob, &room, first_two).await;
    eventually_read(&app, &bob, &room, (first_two, 999)).await;
    mark_read(&app, &bob, &room, first_two + 1).await;
    eventually_read(&app, &bob, &room, (first_two + 1, 998)).await;
}

#[tokio::test]
async fn only_a_member_marks_a_room_read_and_only_with_a_seq_from_0_to_i64_max() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let room = app.room(&alice, "lobby", None).await;
    post(&app, &alice, &room, "hello").await;

    let refused = mark(&app, &carol, &room, json!(1)).await;
    let body = assert_error(refused, StatusCode::FORBIDDEN, None).await;
    assert_eq!(body["code"], "not_a_member");
    let unknown = uuid::Uuid::new_v4();
    let refused = mark(&app, &alice, &unknown.to_string(), json!(1)).await;
    let body = assert_error(refused, StatusCode::NOT_FOUND, None).await;
    assert_eq!(body["code"], "room_not_found");
    let anonymous = app
        .post_json(&format!("/rooms/{room}/read"), None, &json!({"seq": 1}))
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let below = mark(&app, &alice, &room, json!(-1)).await;
    let body = assert_error(below, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    assert_eq!(body["code"], "invalid_input");
    assert!(
        body["detail"].as_str().unwrap().contains("0 or more"),
        "{body}"
    );
    let absurd = [
        json!(i64::MIN),
        json!(9_223_372_036_854_775_808_u64),
        json!(u64::MAX),
        json!(1e30),
        json!(1.5),
        json!("5"),
        json!(null),
        json!([1]),
    ];
    for seq in absurd {
        let response = mark(&app, &alice, &room, seq.clone()).await;
        let body = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, None).await;
        assert!(
            body["detail"].as_str().unwrap().contains("seq"),
            "{seq}: {body}"
        );
    }
    let missing = app
        .call(
            Method::POST,
            &format!("/rooms/{room}/read"),
            &alice,
            Some(json!({})),
        )
        .await;
    assert_error(missing, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    assert_eq!(
        app.count("SELECT count(*) FROM events WHERE aggregate_type = 'ReadPositions'")
            .await,
        0,
        "nothing refused was recorded"
    );
}

#[tokio::test]
async fn members_see_how_far_each_member_read_and_no_one_else_does() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let bob_joined = app.last_seq(&room).await;
    let (_, seq) = post(&app, &alice, &room, "hello").await;
    mark_read(&app, &alice, &room, seq).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let expected = vec![
        ("alice".to_owned(), Some(seq)),
        ("bob".to_owned(), Some(bob_joined)),
    ];
    while receipts(&app, Some(&bob), &room).await != expected {
        assert!(tokio::time::Instant::now() < deadline, "no receipt");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for outsider in [None, Some(carol.as_str())] {
        let shown = receipts(&app, outsider, &room).await;
        assert!(shown.iter().all(|(_, read)| read.is_none()), "{shown:?}");
        assert_eq!(shown.len(), 2);
    }
}

#[tokio::test]
async fn rapid_moves_are_recorded_as_few_events_ending_at_the_furthest() {
    let app = spawn_app_with(&["--send-rate", "0"]).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let mut seqs = Vec::new();
    for n in 0..20 {
        seqs.push(post(&app, &alice, &room, &format!("m{n}")).await.1);
    }
    let (first, rest) = seqs.split_at(10);
    for seq in first {
        mark_read(&app, &bob, &room, *seq).await;
    }
    eventually_read(&app, &bob, &room, (first[9], 10)).await;
    let recorded = app
        .count("SELECT count(*) FROM events WHERE aggregate_type = 'ReadPositions'")
        .await;
    assert!(
        (1..=3).contains(&recorded),
        "{recorded} events for 10 moves"
    );

    // At once and in any order: the furthest stands.
    let moves = rest
        .iter()
        .rev()
        .map(|seq| mark(&app, &bob, &room, json!(seq)));
    let answers = futures::future::join_all(moves).await;
    assert!(answers.iter().all(|r| r.status() == StatusCode::NO_CONTENT));
    eventually_read(&app, &bob, &room, (rest[9], 0)).await;
}
