use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_role_with};

const PENDING: &str = "x-projection-pending";

#[tokio::test]
async fn a_room_and_a_join_are_in_the_read_tables_as_soon_as_the_commands_answer() {
    let app = spawn_app().await;
    let registered = app.register("alice").await;
    assert!(registered.headers().get(PENDING).is_none());
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE username = 'alice'")
            .await,
        1
    );
    let alice = app.user("bob").await;
    let created = app
        .post_json(
            "/rooms/",
            Some(&alice),
            &json!({"name": "general", "is_private": false}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    assert!(created.headers().get(PENDING).is_none());
    let room = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // What `GET /rooms/` reads.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM rooms WHERE id = '{room}' AND name = 'general'"
        ))
        .await,
        1
    );
    let carol = app.user("carol").await;
    let joined = app
        .post_json(&format!("/rooms/{room}/join"), Some(&carol), &json!({}))
        .await;
    assert!(joined.headers().get(PENDING).is_none());
    assert_eq!(
        app.count(&format!(
            "SELECT member_count::bigint FROM rooms WHERE id = '{room}'"
        ))
        .await,
        2
    );
    let left = app
        .post_json(&format!("/rooms/{room}/leave"), Some(&carol), &json!({}))
        .await;
    assert!(left.headers().get(PENDING).is_none());
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM room_members WHERE room_id = '{room}'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn every_event_type_posted_through_the_api_lands_in_the_read_tables() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "general", None).await;
    app.post_json(&format!("/rooms/{room}/join"), Some(&bob), &json!({}))
        .await;
    let posted = app
        .post_json(
            &format!("/rooms/{room}/messages"),
            Some(&alice),
            &json!({"content": "hello", "client_msg_id": "c-1"}),
        )
        .await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    // The owner leaves: MemberLeft, then MemberRoleChanged hands the room to bob.
    app.post_json(&format!("/rooms/{room}/leave"), Some(&alice), &json!({}))
        .await;

    assert_eq!(app.count("SELECT count(*) FROM users").await, 2);
    let (members, last_seq): (i32, i64) =
        sqlx::query_as("SELECT member_count, last_seq FROM rooms WHERE id = $1::uuid")
            .bind(&room)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((members, last_seq), (1, 6));
    let (username, role): (String, String) =
        sqlx::query_as("SELECT username, role FROM room_members WHERE room_id = $1::uuid")
            .bind(&room)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((username.as_str(), role.as_str()), ("bob", "owner"));
    let message: (i64, String, String, Option<String>) = sqlx::query_as(
        "SELECT seq, username, content, client_msg_id FROM messages WHERE room_id = $1::uuid",
    )
    .bind(&room)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        message,
        (4, "alice".into(), "hello".into(), Some("c-1".into()))
    );
}

#[tokio::test]
async fn without_a_projector_a_write_answers_after_the_wait_and_says_the_projection_is_pending() {
    let app = spawn_role_with("command-api", &["--projection-wait", "300ms"]).await;
    let started = Instant::now();
    let registered = app.register("alice").await;
    assert_eq!(registered.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        registered
            .headers()
            .get(PENDING)
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
}
