use std::collections::HashSet;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_on, spawn_app_with};

#[tokio::test]
async fn a_posted_message_answers_with_its_sequence() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let response = app.post_message(&alice, &room, "  hello  ").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let message: Value = response.json().await.unwrap();
    assert_eq!(message["seq"], 3);
    assert_eq!(message["content"], "hello");
    assert_eq!(message["username"], "alice");
    assert_eq!(message["room_id"], room.as_str());
}

#[tokio::test]
async fn fifty_concurrent_posts_get_fifty_consecutive_sequences() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let posts = (0..50).map(|n| app.post_message(&alice, &room, &format!("message {n}")));
    let responses = join_all(posts).await;
    let mut answered: Vec<i64> = Vec::new();
    for response in responses {
        assert_eq!(response.status(), StatusCode::CREATED);
        answered.push(
            response.json::<Value>().await.unwrap()["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    answered.sort_unstable();
    assert_eq!(answered, (3..=52).collect::<Vec<_>>());
    assert_eq!(app.sequences(&room).await, (1..=52).collect::<Vec<_>>());
}

#[tokio::test]
async fn two_processes_taking_200_concurrent_posts_each_store_400_consecutive_messages() {
    let first = spawn_app().await;
    let second = spawn_app_on(&first.database_url, &[]).await;
    let alice = first.user("alice").await;
    let room = first.room(&alice, "general", None).await;

    let posts = (0..400).map(|n| {
        let app = if n % 2 == 0 { &first } else { &second };
        app.post_message(&alice, &room, &format!("message {n}"))
    });
    let responses = join_all(posts).await;

    let mut answered = Vec::new();
    for response in responses {
        assert_eq!(response.status(), StatusCode::CREATED);
        let message: Value = response.json().await.unwrap();
        answered.push((message["seq"].as_i64().unwrap(), message["content"].clone()));
    }
    answered.sort_by_key(|(seq, _)| *seq);
    let seqs: Vec<i64> = answered.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (3..=402).collect::<Vec<_>>(), "each post its own seq");
    let contents: HashSet<String> = answered
        .iter()
        .map(|(_, content)| content.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(contents.len(), 400, "no post answered twice");
    assert_eq!(first.sequences(&room).await, (1..=402).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_room_is_snapshotted_every_configured_number_of_events() {
    let app = spawn_app_with(&["--snapshot-every", "10"]).await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;

    for n in 0..8 {
        let response = app
            .post_message(&alice, &room, &format!("message {n}"))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    let mut snapshot = None;
    for _ in 0..100 {
        snapshot = sqlx::query_scalar::<_, i64>(
            "SELECT last_sequence FROM snapshots WHERE aggregate_id = $1",
        )
        .bind(&room)
        .fetch_optional(&app.pool)
        .await
        .unwrap();
        if snapshot.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(snapshot, Some(10));
}

#[tokio::test]
async fn a_repeated_client_msg_id_returns_the_original_message() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let path = format!("/rooms/{room}/messages");
    let first = app
        .post_json(
            &path,
            Some(&alice),
            &json!({"content": "hi", "client_msg_id": "c-1"}),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let retry = app
        .post_json(
            &path,
            Some(&alice),
            &json!({"content": "changed", "client_msg_id": "c-1"}),
        )
        .await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    assert_eq!(app.sequences(&room).await, vec![1, 2, 3]);
}

#[tokio::test]
async fn non_members_cannot_post_and_unknown_rooms_are_404() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "general", None).await;
    let response = app.post_message(&bob, &room, "hi").await;
    assert_error(response, StatusCode::FORBIDDEN, None).await;
    let response = app
        .post_message(&bob, &uuid::Uuid::new_v4().to_string(), "hi")
        .await;
    assert_error(response, StatusCode::NOT_FOUND, Some("Room not found")).await;
}

#[tokio::test]
async fn empty_and_oversized_messages_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let before = app.event_count().await;
    assert_error(
        app.post_message(&alice, &room, "   ").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
    .await;
    let long = "x".repeat(4001);
    assert_error(
        app.post_message(&alice, &room, &long).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
    .await;
    let path = format!("/rooms/{room}/messages");
    let bad_id = json!({"content": "hi", "client_msg_id": "c".repeat(65)});
    assert_error(
        app.post_json(&path, Some(&alice), &bad_id).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
    .await;
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn sending_faster_than_the_rate_is_refused_with_retry_after() {
    let app = spawn_app_with(&["--send-rate", "1", "--send-burst", "2"]).await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    for _ in 0..2 {
        assert_eq!(
            app.post_message(&alice, &room, "hi").await.status(),
            StatusCode::CREATED
        );
    }
    let refused = app.post_message(&alice, &room, "hi").await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS, None).await;
}
