//! A direct room has every message feature: posts, replies, mentions, edits, reactions and
//! deletions, over REST and both socket dialects; bots open them too; nobody gives it webhooks;
//! and operators rebuild, verify and replay it like any room.

use std::process::Stdio;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::process::Command;

use crate::helpers::{assert_error, spawn_app, TestApp};
use crate::rebuilding_and_verifying::chat;

const THUMBS_UP: &str = "%F0%9F%91%8D";

async fn post(app: &TestApp, token: &str, room: &str, body: Value) -> Value {
    let response = app
        .post_json(&format!("/rooms/{room}/messages"), Some(token), &body)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn succeeds(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) {
    let status = app.call(method.clone(), path, token, body).await.status();
    assert!(status.is_success(), "{method} {path}: {status}");
}

#[tokio::test]
async fn its_two_members_post_reply_mention_edit_react_and_delete_live() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.dm(&alice, "bob").await;
    let mut bobs = app.socket(&room, &bob, "v=2").await;
    let mut seed = app.socket(&room, &bob, "").await;

    let question = post(&app, &alice, &room, json!({"content": "lunch, @Bob?"})).await;
    assert_eq!(question["mentions"][0]["username"], "bob");
    let id = question["id"].as_str().unwrap().to_owned();
    let reply = json!({"content": "yes", "reply_to": id});
    let answer = post(&app, &bob, &room, reply).await;
    let path = format!("/rooms/{room}/messages/{id}");
    succeeds(
        &app,
        Method::PATCH,
        &path,
        &alice,
        Some(json!({"content": "lunch at 1, @bob?"})),
    )
    .await;
    succeeds(
        &app,
        Method::PUT,
        &format!("{path}/reactions/{THUMBS_UP}"),
        &bob,
        None,
    )
    .await;
    // Nobody owns a direct room: only its author takes a message back.
    let refused = app.call(Method::DELETE, &path, &bob, None).await;
    let refused = assert_error(refused, StatusCode::FORBIDDEN, None).await;
    assert_eq!(refused["code"], "not_author_or_owner");
    let answer_path = format!("/rooms/{room}/messages/{}", answer["id"].as_str().unwrap());
    succeeds(&app, Method::DELETE, &answer_path, &bob, None).await;

    let told: Vec<String> = bobs
        .frames_until(|frame| frame["type"] == "message_deleted")
        .await
        .iter()
        .filter(|frame| frame.get("seq").is_some())
        .map(|frame| frame["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        told,
        [
            "message",
            "message",
            "message_edited",
            "reaction_added",
            "message_deleted"
        ]
    );
    assert_eq!(seed.next_of("message").await["content"], "lunch, @Bob?");
    let history = app
        .get_json(&format!("/rooms/{room}/messages?min_seq=8"), Some(&bob))
        .await;
    let history = history.as_array().unwrap();
    assert_eq!(history[0]["deleted"], true);
    assert_eq!(history[1]["content"], "lunch at 1, @bob?");
    assert_eq!(history[1]["reactions"][0]["usernames"], json!(["bob"]));
    assert_eq!(history[1]["reply_count"], 1);
    let mentions = app.get_json("/users/me/mentions", Some(&bob)).await;
    assert_eq!(mentions[0]["room_id"], room.as_str());

    // Sent over a socket, too.
    bobs.send_json(json!({"type": "send", "content": "from the socket", "client_msg_id": "s-1"}))
        .await;
    assert_eq!(bobs.next_of("message").await["content"], "from the socket");
}

#[tokio::test]
async fn nobody_gives_a_direct_room_webhooks() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.user("bob").await;
    let room = app.dm(&alice, "bob").await;
    let body = json!({"url": "https://example.com/hook"});
    let created = app
        .post_json(&format!("/rooms/{room}/webhooks"), Some(&alice), &body)
        .await;
    let refused = assert_error(created, StatusCode::FORBIDDEN, None).await;
    assert_eq!(refused["code"], "not_room_owner");
}

#[tokio::test]
async fn bots_open_direct_rooms_and_are_found_by_name() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let bot = app.bot(&alice, "helper").await;
    let token = bot["token"].as_str().unwrap();

    let room = app.dm(token, "BOB").await;
    assert_eq!(app.dm(&bob, "Helper.Bot").await, room);
    let posted = post(&app, token, &room, json!({"content": "beep"})).await;
    assert_eq!(posted["is_bot"], true);
    let listed = app.get_json("/users/me/rooms", Some(&bob)).await;
    assert_eq!(listed[0]["name"], "helper.bot");
    let listed = app.get_json("/users/me/rooms", Some(token)).await;
    assert_eq!(listed[0]["name"], "bob");
}

#[tokio::test]
async fn operators_rebuild_verify_and_replay_direct_rooms() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.user("bob").await;
    let room = app.dm(&alice, "bob").await;
    post(&app, &alice, &room, json!({"content": "hello"})).await;
    app.eventually(
        &format!("SELECT count(*) FROM messages WHERE room_id = '{room}'"),
        1,
    )
    .await;
    chat(&app, &["rebuild"]).await.unwrap();
    chat(&app, &["verify"]).await.unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM rooms WHERE id = '{room}' AND kind = 'direct'"
        ))
        .await,
        1,
        "the rebuilt room is still direct"
    );
    let listed = app.get_json("/users/me/rooms", Some(&alice)).await;
    assert_eq!(
        (&listed[0]["name"], &listed[0]["kind"]),
        (&json!("bob"), &json!("direct"))
    );

    let output = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(["replay", "--room", &room])
        .env("DATABASE_URL", &app.database_url)
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("run chat replay");
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(printed.lines().count(), 4, "{printed}");
    assert!(printed.contains("(direct)"), "{printed}");
    // A hand-made difference in the kind is caught.
    sqlx::query("UPDATE rooms SET kind = 'room' WHERE id = $1::uuid")
        .bind(&room)
        .execute(&app.pool)
        .await
        .unwrap();
    let error = chat(&app, &["verify"]).await.unwrap_err();
    assert!(error.to_string().contains("differ"), "{error}");
}
