//! A `client_msg_id` names one message per sender and room for a day, whatever others post
//! meanwhile: a retry whose answer was lost gets the original (200), and another sender's equal
//! id is another message.

use futures::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_on, TestApp};

async fn send(
    app: &TestApp,
    token: &str,
    room: &str,
    content: &str,
    id: &str,
) -> (StatusCode, Value) {
    let response = app
        .post_json(
            &format!("/rooms/{room}/messages"),
            Some(token),
            &json!({"content": content, "client_msg_id": id}),
        )
        .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn retries_after_two_thousand_messages_by_others_answer_their_originals_sent_together_with_new_ones(
) {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "busy", None).await;
    app.join(&bob, &room, None).await;
    let mut originals = Vec::new();
    for n in 0..20 {
        let (status, original) = send(
            &app,
            &alice,
            &room,
            &format!("hello {n}"),
            &format!("m-{n}"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        originals.push(original);
    }

    // More sends with ids than the room itself remembers, all by someone else.
    let others = stream::iter(0..2000)
        .map(|n| {
            app.post_json(
                &format!("/rooms/{room}/messages"),
                Some(&bob),
                &json!({"content": format!("noise {n}"), "client_msg_id": format!("b-{n}")}),
            )
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    assert!(others
        .iter()
        .all(|posted| posted.status() == StatusCode::CREATED));

    // Every retry at once, each beside a new send, so that their lookups share statements.
    let sends = stream::iter(0..40)
        .map(|n| {
            let (content, id) = if n % 2 == 0 {
                (format!("hello {}", n / 2), format!("m-{}", n / 2))
            } else {
                (format!("new {n}"), format!("new-{n}"))
            };
            let (app, alice, room) = (&app, &alice, &room);
            async move { (n, send(app, alice, room, &content, &id).await) }
        })
        .buffer_unordered(40)
        .collect::<Vec<_>>()
        .await;
    for (n, (status, answer)) in sends {
        if n % 2 == 0 {
            assert_eq!(status, StatusCode::OK, "a repeat, not a new message");
            assert_eq!(answer, originals[n / 2]);
        } else {
            assert_eq!(status, StatusCode::CREATED, "{answer}");
        }
    }
    let copies = app
        .count("SELECT count(*) FROM events WHERE payload -> 'MessagePosted' ->> 'client_msg_id' LIKE 'm-%'")
        .await;
    assert_eq!(copies, 20);
}

#[tokio::test]
async fn two_senders_may_use_the_same_id() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;

    let (alice_status, alices) = send(&app, &alice, &room, "from alice", "same").await;
    let (bob_status, bobs) = send(&app, &bob, &room, "from bob", "same").await;

    assert_eq!(
        (alice_status, bob_status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert_ne!(alices["id"], bobs["id"]);
    let (again, repeat) = send(&app, &bob, &room, "from bob, again", "same").await;
    assert_eq!(again, StatusCode::OK);
    assert_eq!(repeat["id"], bobs["id"]);
}

#[tokio::test]
async fn a_retry_to_another_process_of_the_system_answers_the_original() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let (_, original) = send(&app, &alice, &room, "hello", "m-1").await;

    let restarted = spawn_app_on(&app.database_url, &[]).await;
    let (status, retried) = send(&restarted, &alice, &room, "hello", "m-1").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(retried, original);
}
