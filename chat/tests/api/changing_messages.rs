//! Messages that live: edited, deleted, reacted to, replied to, mentioning people.

use futures::future::join_all;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

/// `method path` with a JSON body or none, as the holder of `token`.
fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> impl std::future::Future<Output = Response> + 'static {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    async move { request.send().await.expect("request") }
}

async fn posted(app: &TestApp, token: &str, room: &str, body: Value) -> Value {
    let response = app
        .post_json(&format!("/rooms/{room}/messages"), Some(token), &body)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn join(app: &TestApp, token: &str, room: &str) {
    let response = app
        .post_json(&format!("/rooms/{room}/join"), Some(token), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// A public room of alice's where bob is a member and carol is not, with one message of bob's.
async fn lobby(app: &TestApp) -> (String, String, String, String, String) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let room = app.room(&alice, "lobby", None).await;
    join(app, &bob, &room).await;
    let message = posted(app, &bob, &room, json!({"content": "hello"})).await;
    let id = message["id"].as_str().unwrap().to_owned();
    (alice, bob, carol, room, id)
}

#[tokio::test]
async fn a_posted_message_carries_what_may_become_of_it() {
    let app = spawn_app().await;
    let (_, bob, _, room, _) = lobby(&app).await;
    let message = posted(
        &app,
        &bob,
        &room,
        json!({"content": "hi @Alice and @nobody"}),
    )
    .await;
    assert_eq!(message["edited_at"], Value::Null);
    assert_eq!(message["deleted"], false);
    assert_eq!(message["reactions"], json!([]));
    assert_eq!(message["reply_to"], Value::Null);
    assert_eq!(message["reply_count"], 0);
    assert_eq!(message["mentions"][0]["username"], "alice");
    assert_eq!(message["mentions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_author_edits_and_no_one_else_may() {
    let app = spawn_app().await;
    let (alice, bob, carol, room, id) = lobby(&app).await;
    let path = format!("/rooms/{room}/messages/{id}");
    let response = send(
        &app,
        Method::PATCH,
        &path,
        &bob,
        Some(json!({"content": " ask @alice "})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["content"], "ask @alice");
    assert!(edited["edited_at"].is_string());
    assert_eq!(edited["mentions"][0]["username"], "alice");

    let refused = send(
        &app,
        Method::PATCH,
        &path,
        &alice,
        Some(json!({"content": "mine"})),
    )
    .await;
    assert_error(refused, StatusCode::FORBIDDEN, None).await;
    let stranger = send(
        &app,
        Method::PATCH,
        &path,
        &carol,
        Some(json!({"content": "x"})),
    )
    .await;
    assert_error(stranger, StatusCode::FORBIDDEN, None).await;
    let empty = send(
        &app,
        Method::PATCH,
        &path,
        &bob,
        Some(json!({"content": "   "})),
    )
    .await;
    assert_error(empty, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    let unknown = format!("/rooms/{room}/messages/{}", uuid::Uuid::new_v4());
    let missing = send(
        &app,
        Method::PATCH,
        &unknown,
        &bob,
        Some(json!({"content": "x"})),
    )
    .await;
    assert_error(missing, StatusCode::NOT_FOUND, None).await;
}

#[tokio::test]
async fn a_deleted_message_is_a_tombstone_everywhere_but_the_log() {
    let app = spawn_app().await;
    let (alice, bob, carol, room, id) = lobby(&app).await;
    let path = format!("/rooms/{room}/messages/{id}");
    let reaction = format!("{path}/reactions/%F0%9F%91%8D");
    assert_eq!(
        send(&app, Method::PUT, &reaction, &alice, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        send(&app, Method::DELETE, &path, &carol, None).await,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    assert_eq!(
        send(&app, Method::DELETE, &path, &alice, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(&app, Method::DELETE, &path, &bob, None).await.status(),
        StatusCode::NO_CONTENT,
        "again"
    );

    let history = app
        .get_json(&format!("/rooms/{room}/messages"), Some(&bob))
        .await;
    let tombstone = &history[0];
    assert_eq!(tombstone["id"], id.as_str());
    assert_eq!(tombstone["deleted"], true);
    assert_eq!(tombstone["content"], "");
    assert_eq!(tombstone["reactions"], json!([]));
    let edit = send(
        &app,
        Method::PATCH,
        &path,
        &bob,
        Some(json!({"content": "back"})),
    )
    .await;
    assert_error(edit, StatusCode::CONFLICT, None).await;
    assert_error(
        send(&app, Method::PUT, &reaction, &bob, None).await,
        StatusCode::CONFLICT,
        None,
    )
    .await;
    let kept = app
        .count(&format!("SELECT count(*) FROM events WHERE payload::text LIKE '%\"hello\"%' AND aggregate_id = '{room}'"))
        .await;
    assert_eq!(kept, 1, "the log keeps what it said");
}

#[tokio::test]
async fn reactions_are_idempotent_counted_and_bounded() {
    let app = spawn_app().await;
    let (alice, bob, carol, room, id) = lobby(&app).await;
    let base = format!("/rooms/{room}/messages/{id}/reactions");
    for token in [&alice, &bob, &alice] {
        let response = send(
            &app,
            Method::PUT,
            &format!("{base}/%F0%9F%91%8D"),
            token,
            None,
        )
        .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    for refused in ["ok", "%F0%9F%91%8D%F0%9F%91%8D", "%00", "%E2%80%AE"] {
        let response = send(&app, Method::PUT, &format!("{base}/{refused}"), &bob, None).await;
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    }
    let stranger = send(
        &app,
        Method::PUT,
        &format!("{base}/%F0%9F%91%8D"),
        &carol,
        None,
    )
    .await;
    assert_error(stranger, StatusCode::FORBIDDEN, None).await;
    let history = app
        .get_json(&format!("/rooms/{room}/messages"), Some(&bob))
        .await;
    assert_eq!(
        history[0]["reactions"],
        json!([{"emoji": "👍", "count": 2, "usernames": ["alice", "bob"]}])
    );

    // 24 distinct emoji at once, from two processes' worth of clients: never more than 20.
    let emoji: Vec<String> = ('\u{1F600}'..).take(24).map(String::from).collect();
    let puts = emoji.iter().map(|e| {
        let encoded: String = e.bytes().map(|b| format!("%{b:02X}")).collect();
        send(&app, Method::PUT, &format!("{base}/{encoded}"), &bob, None)
    });
    let statuses: Vec<StatusCode> = join_all(puts).await.iter().map(|r| r.status()).collect();
    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::NO_CONTENT)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((accepted, refused), (19, 5), "{statuses:?}");
    let distinct = app
        .count(&format!(
            "SELECT count(DISTINCT emoji) FROM message_reactions WHERE message_id = '{id}'"
        ))
        .await;
    assert_eq!(distinct, 20);
    let taken_back = send(
        &app,
        Method::DELETE,
        &format!("{base}/%F0%9F%91%8D"),
        &bob,
        None,
    )
    .await;
    assert_eq!(taken_back.status(), StatusCode::NO_CONTENT);
    let again = send(
        &app,
        Method::DELETE,
        &format!("{base}/%F0%9F%91%8D"),
        &bob,
        None,
    )
    .await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn replies_list_oldest_first_and_must_answer_a_message_of_the_room() {
    let app = spawn_app().await;
    let (alice, bob, _, room, id) = lobby(&app).await;
    let other = app.room(&alice, "elsewhere", None).await;
    let elsewhere = posted(&app, &alice, &other, json!({"content": "there"})).await;
    for n in 0..3 {
        let reply = posted(
            &app,
            &alice,
            &room,
            json!({"content": format!("re {n}"), "reply_to": id}),
        )
        .await;
        assert_eq!(reply["reply_to"], id.as_str());
    }
    for target in [
        elsewhere["id"].clone(),
        json!(uuid::Uuid::new_v4()),
        json!("nope"),
    ] {
        let response = app
            .post_json(
                &format!("/rooms/{room}/messages"),
                Some(&bob),
                &json!({"content": "x", "reply_to": target}),
            )
            .await;
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    }
    let last = posted(&app, &bob, &room, json!({"content": "sync"})).await;
    let path = format!("/rooms/{room}/messages/{id}/replies?limit=2");
    let first_page = app.get(&format!("{path}&after_seq=0"), None).await;
    assert_eq!(first_page.status(), StatusCode::OK);
    let _ = last;
    app.eventually(
        &format!("SELECT count(*) FROM messages WHERE reply_to = '{id}'"),
        3,
    )
    .await;
    let page = app.get_json(&path, None).await;
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(page[0]["content"], "re 0");
    let after = page[1]["seq"].as_i64().unwrap();
    let rest = app
        .get_json(&format!("{path}&after_seq={after}"), None)
        .await;
    assert_eq!(rest[0]["content"], "re 2");
    let history = app
        .get_json(&format!("/rooms/{room}/messages?limit=10"), None)
        .await;
    let original = history
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id.as_str())
        .unwrap();
    assert_eq!(original["reply_count"], 3);
    let unknown = app
        .get(
            &format!("/rooms/{room}/messages/{}/replies", uuid::Uuid::new_v4()),
            None,
        )
        .await;
    assert_error(unknown, StatusCode::NOT_FOUND, None).await;
}

#[tokio::test]
async fn mentions_list_newest_first_from_rooms_one_can_still_read() {
    let app = spawn_app().await;
    let (alice, bob, _, room, _) = lobby(&app).await;
    let private = app.room(&alice, "secret", Some("sesame")).await;
    let response = app
        .post_json(
            &format!("/rooms/{private}/join"),
            Some(&bob),
            &json!({"password": "sesame"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    posted(&app, &alice, &room, json!({"content": "@bob first"})).await;
    posted(&app, &alice, &private, json!({"content": "@BOB secret"})).await;
    posted(&app, &alice, &room, json!({"content": "no one"})).await;
    app.eventually("SELECT count(*) FROM message_mentions", 2)
        .await;
    let mentions = app.get_json("/users/me/mentions", Some(&bob)).await;
    let contents: Vec<&str> = mentions
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["@BOB secret", "@bob first"]);
    let before = mentions[0]["created_at"].as_str().unwrap();
    let older = app
        .get_json(
            &format!("/users/me/mentions?before={}", before.replace('+', "%2B")),
            Some(&bob),
        )
        .await;
    assert_eq!(older.as_array().unwrap().len(), 1);

    let left = app
        .post_json(&format!("/rooms/{private}/leave"), Some(&bob), &json!({}))
        .await;
    assert_eq!(left.status(), StatusCode::OK);
    let mentions = app.get_json("/users/me/mentions", Some(&bob)).await;
    assert_eq!(
        mentions.as_array().unwrap().len(),
        1,
        "the private room is no longer readable"
    );
    assert_eq!(
        app.get("/users/me/mentions", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_author_who_left_may_still_delete_their_message_and_nothing_more() {
    let app = spawn_app().await;
    let (_, bob, carol, room, id) = lobby(&app).await;
    let path = format!("/rooms/{room}/messages/{id}");
    let left = app
        .post_json(&format!("/rooms/{room}/leave"), Some(&bob), &json!({}))
        .await;
    assert!(left.status().is_success(), "{}", left.status());
    let edit = send(
        &app,
        Method::PATCH,
        &path,
        &bob,
        Some(json!({"content": "x"})),
    )
    .await;
    assert_error(edit, StatusCode::FORBIDDEN, None).await;
    let react = send(
        &app,
        Method::PUT,
        &format!("{path}/reactions/%F0%9F%91%8D"),
        &bob,
        None,
    );
    assert_error(react.await, StatusCode::FORBIDDEN, None).await;
    let stranger = assert_error(
        send(&app, Method::DELETE, &path, &carol, None).await,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    assert_eq!(stranger["code"], "not_a_member");
    assert_eq!(
        send(&app, Method::DELETE, &path, &bob, None).await.status(),
        StatusCode::NO_CONTENT,
        "what one wrote is theirs to take back"
    );
    let history = app.get_json(&format!("/rooms/{room}/messages"), None).await;
    assert_eq!(history[0]["deleted"], true);
}
