//! Room names and messages cannot hide what they say: control characters, bidi overrides and
//! isolates, and names with nothing visible are refused with a 422 naming the field, over REST
//! and WebSocket alike, and nothing is stored.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app};
use crate::sockets::assert_refused_in_both_dialects;

#[tokio::test]
async fn names_and_messages_that_hide_their_text_are_refused_over_rest() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let before = app.event_count().await;
    let messages = format!("/rooms/{room}/messages");
    let cases = [
        (
            "/rooms/",
            json!({"name": "\u{200B}\u{2060}", "is_private": false}),
            "room name must contain a visible character",
        ),
        (
            "/rooms/",
            json!({"name": "invoice\u{202E}fdp.exe", "is_private": false}),
            "room name must not contain bidirectional override or isolate characters (found U+202E)",
        ),
        (
            "/rooms/",
            json!({"name": "ring\u{7}ring", "is_private": false}),
            "room name must not contain control characters (found U+0007)",
        ),
        (
            messages.as_str(),
            json!({"content": "\u{1B}[2Jcleared"}),
            "message must not contain control characters (found U+001B)",
        ),
        (
            messages.as_str(),
            json!({"content": "isolated \u{2067}text"}),
            "message must not contain bidirectional override or isolate characters (found U+2067)",
        ),
    ];
    for (path, body, detail) in cases {
        let response = app.post_json(path, Some(&alice), &body).await;
        let error = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, Some(detail)).await;
        assert_eq!(error["code"], "invalid_input");
    }
    assert_eq!(app.event_count().await, before);

    let kept = app
        .post_json(
            &messages,
            Some(&alice),
            &json!({"content": "two lines\n\tand a tab"}),
        )
        .await;
    assert_eq!(kept.status(), StatusCode::CREATED);
    let kept: serde_json::Value = kept.json().await.unwrap();
    assert_eq!(kept["content"], "two lines\n\tand a tab");
}

#[tokio::test]
async fn a_message_that_hides_its_text_is_refused_over_the_websocket_too() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut json_socket = app.socket(&room, &alice, "v=2").await;
    let mut seed = app.socket(&room, &alice, "").await;
    let events = app.event_count().await;
    let detail =
        "message must not contain bidirectional override or isolate characters (found U+202E)";

    assert_refused_in_both_dialects(&mut json_socket, &mut seed, "gro\u{202E}olleh", detail).await;
    assert_eq!(app.event_count().await, events);
}
