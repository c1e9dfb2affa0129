//! An auditor reads every version of a message, the deleted text included; no one else can.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::auditing::auditor_app;
use crate::helpers::{assert_error, TestApp};

async fn send(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) {
    let status = app.call(method, path, token, body).await.status();
    assert!(status.is_success(), "{path}: {status}");
}

/// A room of alice's with a message of bob's, edited twice, reacted to and deleted by alice;
/// answers the room, the message and its path.
async fn a_message_with_a_past(app: &TestApp, alice: &str, bob: &str) -> (String, String) {
    let room = app.room(alice, "lobby", None).await;
    let joined = app
        .post_json(&format!("/rooms/{room}/join"), Some(bob), &json!({}))
        .await;
    assert_eq!(joined.status(), StatusCode::OK);
    let posted: Value = app
        .post_message(bob, &room, "first @alice")
        .await
        .json()
        .await
        .unwrap();
    let id = posted["id"].as_str().unwrap().to_owned();
    app.eventually(
        &format!("SELECT count(*) FROM messages WHERE id = '{id}'"),
        1,
    )
    .await;
    let path = format!("/rooms/{room}/messages/{id}");
    for content in ["second", "third"] {
        let body = Some(json!({ "content": content }));
        send(app, Method::PATCH, &path, bob, body).await;
    }
    let reaction = format!("{path}/reactions/%F0%9F%91%8D");
    send(app, Method::PUT, &reaction, alice, None).await;
    app.post_message(alice, &room, "unrelated").await;
    send(app, Method::DELETE, &path, alice, None).await;
    (room, id)
}

#[tokio::test]
async fn every_version_of_a_message_with_who_and_when_the_deleted_text_included() {
    let (app, auditor) = auditor_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let (room, id) = a_message_with_a_past(&app, &alice, &bob).await;
    let path = format!("/audit/rooms/{room}/messages/{id}/versions");

    let versions = app.get_json(&path, Some(&auditor)).await;
    let versions = versions.as_array().unwrap();
    let told: Vec<_> = versions
        .iter()
        .map(|v| {
            (
                v["kind"].clone(),
                v["content"].clone(),
                v["username"].clone(),
            )
        })
        .collect();
    assert_eq!(
        told,
        vec![
            (json!("posted"), json!("first @alice"), json!("bob")),
            (json!("edited"), json!("second"), json!("bob")),
            (json!("edited"), json!("third"), json!("bob")),
            (json!("deleted"), Value::Null, json!("alice")),
        ],
        "reactions and other messages are no versions; the owner deleted it"
    );
    assert_eq!(versions[0]["mentions"][0]["username"], "alice");
    assert_eq!(versions[1]["mentions"], json!([]));
    let alice_id = domain::values::Username::parse("alice").unwrap().user_id();
    assert_eq!(versions[3]["user_id"], alice_id.to_string());
    let seqs: Vec<i64> = versions
        .iter()
        .map(|v| v["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    let times: Vec<&str> = versions.iter().map(|v| v["at"].as_str().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in order: {times:?}"
    );

    let page = app
        .get_json(
            &format!("{path}?after_seq={}&limit=2", seqs[0]),
            Some(&auditor),
        )
        .await;
    let paged: Vec<i64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(paged, seqs[1..3]);
    let first = app
        .get_json(&format!("{path}?limit=1"), Some(&auditor))
        .await;
    assert_eq!(first.as_array().unwrap().len(), 1);
    assert_eq!(first[0]["kind"], "posted");

    let history = app
        .get_json(&format!("/rooms/{room}/messages"), Some(&bob))
        .await;
    let tombstone = history
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id.as_str())
        .unwrap();
    assert_eq!(tombstone["content"], "", "only the audit shows the text");
    let on_record = app
        .count(&format!(
            "SELECT count(*) FROM events WHERE event_type = 'AuditLogRead' \
             AND payload -> 'AuditLogRead' ->> 'resource' LIKE '%/messages/{id}/versions%'"
        ))
        .await;
    assert_eq!(on_record, 3, "every read is on the audit trail");
}

#[tokio::test]
async fn only_auditors_read_versions_and_unknown_messages_are_not_found() {
    let (app, auditor) = auditor_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let (room, id) = a_message_with_a_past(&app, &alice, &bob).await;
    let path = format!("/audit/rooms/{room}/messages/{id}/versions");
    for token in [&alice, &bob] {
        let refused = app.get(&path, Some(token)).await;
        let body = assert_error(refused, StatusCode::FORBIDDEN, None).await;
        assert_eq!(
            body["code"], "not_an_auditor",
            "not even its author or owner"
        );
    }
    assert_error(app.get(&path, None).await, StatusCode::UNAUTHORIZED, None).await;

    let other_room = app.room(&alice, "other", None).await;
    let unknown = uuid::Uuid::new_v4();
    for (path, code) in [
        (
            format!("/audit/rooms/{room}/messages/{unknown}/versions"),
            "message_not_found",
        ),
        (
            format!("/audit/rooms/{other_room}/messages/{id}/versions"),
            "message_not_found",
        ),
        (
            format!("/audit/rooms/{unknown}/messages/{id}/versions"),
            "room_not_found",
        ),
    ] {
        let body = assert_error(
            app.get(&path, Some(&auditor)).await,
            StatusCode::NOT_FOUND,
            None,
        )
        .await;
        assert_eq!(body["code"], code, "{path}");
    }
    // A room's own id is no message of it, though its events carry it.
    let not_a_message = format!("/audit/rooms/{room}/messages/{room}/versions");
    assert_error(
        app.get(&not_a_message, Some(&auditor)).await,
        StatusCode::NOT_FOUND,
        None,
    )
    .await;

    for bad in ["limit=0", "limit=1001", "limit=x", "after_seq=x"] {
        let refused = app.get(&format!("{path}?{bad}"), Some(&auditor)).await;
        assert_error(refused, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    }
    let bad_id = format!("/audit/rooms/{room}/messages/not-a-uuid/versions");
    let refused = app.get(&bad_id, Some(&auditor)).await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
}
