//! A store written by older code keeps working: `MessagePosted` of version 1 (no `reply_to`,
//! no `mentions`) loads into the room, projects, rebuilds and verifies, and its messages can
//! be changed like any other; and `chat verify` is clean after every kind of message event.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::seed::{self, StoredEvent};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};
use crate::rebuilding_and_verifying::chat;

fn user_id(username: &str) -> Uuid {
    domain::values::Username::parse(username).unwrap().user_id()
}

/// A room event exactly as the code before replies and mentions wrote it.
fn old_event(room: Uuid, sequence: i64, event_type: &str, fields: Value) -> StoredEvent {
    StoredEvent {
        aggregate_type: "Room",
        aggregate_id: room.to_string(),
        sequence,
        event_type: event_type.into(),
        event_version: "1".into(),
        payload: json!({ event_type: fields }).to_string(),
    }
}

async fn change(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) {
    let status = app.call(method.clone(), path, token, body).await.status();
    assert!(status.is_success(), "{method} {path}: {status}");
}

/// The room's history as readers see it, oldest first.
async fn history(app: &TestApp, room: Uuid, token: &str) -> Vec<Value> {
    let mut messages = app
        .get_json(&format!("/rooms/{room}/messages"), Some(token))
        .await
        .as_array()
        .unwrap()
        .clone();
    messages.reverse();
    messages
}

#[tokio::test]
async fn a_store_of_version_1_messages_loads_projects_changes_rebuilds_and_verifies() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = Uuid::new_v4();
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let at = "2025-06-01T10:00:00.123456Z";
    let member = |username: &str, role: &str| json!({"user_id": user_id(username), "username": username, "role": role, "joined_at": at});
    let posted = |id: Uuid, username: &str, content: &str, client_msg_id: Value| {
        json!({"message_id": id, "user_id": user_id(username), "username": username,
               "content": content, "client_msg_id": client_msg_id, "posted_at": at})
    };
    let old = [
        old_event(
            room,
            1,
            "RoomCreated",
            json!({"room_id": room, "name": "old times",
            "is_private": false, "password_hash": null, "created_by": user_id("alice"),
            "created_at": at}),
        ),
        old_event(room, 2, "MemberJoined", member("alice", "owner")),
        old_event(room, 3, "MemberJoined", member("bob", "member")),
        old_event(
            room,
            4,
            "MessagePosted",
            posted(first, "alice", "hi @bob", json!("c-1")),
        ),
        old_event(
            room,
            5,
            "MessagePosted",
            posted(second, "bob", "hello", Value::Null),
        ),
    ];
    seed::write(&app.pool, &old, 100).await.unwrap();
    app.eventually(
        &format!("SELECT count(*) FROM messages WHERE room_id = '{room}'"),
        2,
    )
    .await;

    let details = app.get_json(&format!("/rooms/{room}"), None).await;
    assert_eq!(
        details["kind"], "room",
        "a room of version 1 is a named room"
    );
    let read = history(&app, room, &bob).await;
    assert_eq!(read[0]["content"], "hi @bob");
    assert_eq!(read[0]["client_msg_id"], "c-1");
    assert_eq!(read[0]["mentions"], json!([]), "version 1 named nobody");
    assert_eq!(read[0]["reply_to"], Value::Null);
    assert_eq!(read[1]["seq"], 5);

    // The room loads from its old events: it decides on them as on new ones.
    let path = |id: Uuid| format!("/rooms/{room}/messages/{id}");
    let edit = Some(json!({"content": "hi again @bob"}));
    change(&app, Method::PATCH, &path(first), &alice, edit).await;
    let thumbs = format!("{}/reactions/%F0%9F%91%8D", path(second));
    change(&app, Method::PUT, &thumbs, &alice, None).await;
    let reply = json!({"content": "answer", "reply_to": first});
    let answered = app
        .post_json(&format!("/rooms/{room}/messages"), Some(&bob), &reply)
        .await;
    assert_eq!(answered.status(), StatusCode::CREATED);
    let refused = app
        .call(Method::DELETE, &path(first), &bob, None)
        .await
        .status();
    assert_eq!(refused, StatusCode::FORBIDDEN, "bob is not its author");
    change(&app, Method::DELETE, &path(second), &bob, None).await;
    app.eventually(
        &format!("SELECT count(*) FROM messages WHERE room_id = '{room}'"),
        3,
    )
    .await;
    app.eventually(
        &format!("SELECT count(*) FROM messages WHERE room_id = '{room}' AND deleted"),
        1,
    )
    .await;
    let before = history(&app, room, &bob).await;
    assert_eq!(before[0]["mentions"][0]["username"], "bob");
    assert_eq!(before[0]["reply_count"], 1);
    assert_eq!(before[1]["deleted"], true);

    chat(&app, &["verify"]).await.unwrap();
    chat(&app, &["rebuild"]).await.unwrap();
    chat(&app, &["verify"]).await.unwrap();
    let after = history(&app, room, &bob).await;
    assert_eq!(
        after, before,
        "a rebuild from the old events reads the same"
    );
    let timeline = query_api::replay_timeline(&app.pool, room, None)
        .await
        .unwrap();
    assert!(
        timeline[3].contains(&format!("alice: hi @bob [{first}]")),
        "{timeline:?}"
    );
}

#[tokio::test]
async fn verify_is_clean_after_every_kind_of_message_event() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lively", None).await;
    app.join(&bob, &room, None).await;
    let post = |token: &str, body: Value| {
        app.post_json(&format!("/rooms/{room}/messages"), Some(token), &body)
    };
    let first: Value = post(&alice, json!({"content": "hi @bob"}))
        .await
        .json()
        .await
        .unwrap();
    let id = first["id"].as_str().unwrap();
    app.eventually(
        &format!("SELECT count(*) FROM messages WHERE id = '{id}'"),
        1,
    )
    .await;
    let answer = post(&bob, json!({"content": "yes @alice", "reply_to": id})).await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let answer: Value = answer.json().await.unwrap();
    let answer_id = answer["id"].as_str().unwrap();
    let path = format!("/rooms/{room}/messages/{id}");
    let edit = Some(json!({"content": "hi @bob, edited"}));
    change(&app, Method::PATCH, &path, &alice, edit).await;
    for (emoji, who) in [
        ("%F0%9F%91%8D", &bob),
        ("%F0%9F%8E%89", &bob),
        ("%F0%9F%91%8D", &alice),
    ] {
        change(
            &app,
            Method::PUT,
            &format!("{path}/reactions/{emoji}"),
            who,
            None,
        )
        .await;
    }
    change(
        &app,
        Method::DELETE,
        &format!("{path}/reactions/%F0%9F%8E%89"),
        &bob,
        None,
    )
    .await;
    let answer_path = format!("/rooms/{room}/messages/{answer_id}");
    change(
        &app,
        Method::PUT,
        &format!("{answer_path}/reactions/%F0%9F%91%8D"),
        &alice,
        None,
    )
    .await;
    change(&app, Method::DELETE, &answer_path, &bob, None).await;

    let kinds = app
        .count(&format!(
            "SELECT count(DISTINCT event_type) FROM events WHERE aggregate_id = '{room}' AND event_type \
             IN ('MessagePosted', 'MessageEdited', 'ReactionAdded', 'ReactionRemoved', 'MessageDeleted')"
        ))
        .await;
    assert_eq!(kinds, 5);
    app.eventually("SELECT count(*) FROM messages WHERE deleted", 1)
        .await;
    app.eventually("SELECT count(*) FROM message_reactions", 2)
        .await;
    app.eventually("SELECT count(*) FROM message_mentions", 2)
        .await;
    chat(&app, &["verify"]).await.unwrap();
    // A hand-made difference in a new table is caught: verify compares them all.
    sqlx::query("DELETE FROM message_mentions WHERE message_id = $1")
        .bind(Uuid::parse_str(id).unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    let error = chat(&app, &["verify"]).await.unwrap_err();
    assert!(error.to_string().contains("differ"), "{error}");
}
