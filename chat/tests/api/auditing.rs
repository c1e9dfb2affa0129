use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

/// An app with a user `auditor`, made one as `chat role grant auditor auditor` does.
pub async fn auditor_app() -> (TestApp, String) {
    let app = spawn_app().await;
    let auditor = app.user("auditor").await;
    let granted =
        commands::change_role(app.pool.clone(), "Auditor", domain::UserRole::Auditor, true)
            .await
            .expect("grant");
    assert_eq!(granted, commands::RoleChange::Granted);
    (app, auditor)
}

#[tokio::test]
async fn the_state_at_an_instant_between_two_joins_lists_exactly_that_moments_members() {
    let (app, auditor) = auditor_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "general", None).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let between = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    tokio::time::sleep(Duration::from_millis(20)).await;
    app.post_json(&format!("/rooms/{room}/join"), Some(&bob), &json!({}))
        .await;
    app.post_message(&bob, &room, "hi").await;

    let at = between.replace('+', "%2B");
    let then = app
        .get_json(
            &format!("/audit/rooms/{room}/state?at={at}"),
            Some(&auditor),
        )
        .await;
    let members: Vec<_> = then["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].clone())
        .collect();
    assert_eq!(members, vec![json!("alice")]);
    assert_eq!(then["message_count"], 0);
    assert_eq!(then["last_seq"], 2);

    let now = app
        .get_json(&format!("/audit/rooms/{room}/state"), Some(&auditor))
        .await;
    assert_eq!(now["members"].as_array().unwrap().len(), 2);
    assert_eq!(now["message_count"], 1);
}

#[tokio::test]
async fn audit_output_never_contains_a_password_hash() {
    let (app, auditor) = auditor_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "Secret", Some("sesame")).await;
    let events = app
        .get(&format!("/audit/rooms/{room}/events"), Some(&auditor))
        .await
        .text()
        .await
        .unwrap();
    let events: Value = serde_json::from_str(&events).unwrap();
    assert_eq!(events[0]["event_type"], "RoomCreated");
    assert_eq!(
        events[0]["payload"]["RoomCreated"]["password_hash"],
        "[redacted]"
    );
    assert!(
        events[0]["metadata"]["request_id"].is_string(),
        "request ids are kept for audits"
    );

    let alice_id = domain::values::Username::parse("alice").unwrap().user_id();
    let hers = app
        .get(&format!("/audit/users/{alice_id}/events"), Some(&auditor))
        .await
        .text()
        .await
        .unwrap();
    assert!(!hers.contains("$2b$"), "a bcrypt hash leaked: {hers}");
    let types: Vec<String> = serde_json::from_str::<Value>(&hers)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, vec!["UserRegistered", "RoomCreated", "MemberJoined"]);
}

#[tokio::test]
async fn room_events_page_by_sequence() {
    let (app, auditor) = auditor_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    for n in 0..3 {
        app.post_message(&alice, &room, &format!("m{n}")).await;
    }
    let page = app
        .get_json(
            &format!("/audit/rooms/{room}/events?after_seq=2&limit=2"),
            Some(&auditor),
        )
        .await;
    let sequences: Vec<_> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, vec![3, 4]);
}

#[tokio::test]
async fn non_auditors_are_refused_the_event_log() {
    let (app, _) = auditor_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    for path in [
        format!("/audit/rooms/{room}/events"),
        format!("/audit/rooms/{room}/state"),
        format!("/audit/users/{}/events", uuid::Uuid::new_v4()),
        "/audit/reads".to_owned(),
    ] {
        assert_error(
            app.get(&path, Some(&alice)).await,
            StatusCode::FORBIDDEN,
            None,
        )
        .await;
        assert_error(app.get(&path, None).await, StatusCode::UNAUTHORIZED, None).await;
    }
}

#[tokio::test]
async fn the_replayed_timeline_tells_the_history_the_query_api_serves() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let mut last = Value::Null;
    for text in ["first", "second", "third"] {
        last = app
            .post_message(&alice, &room, text)
            .await
            .json()
            .await
            .unwrap();
    }
    let room_id = room.parse().unwrap();
    let timeline = query_api::replay_timeline(&app.pool, room_id, None)
        .await
        .unwrap();
    let history = app
        .get_json(
            &format!("/rooms/{room}/messages?min_seq={}", last["seq"]),
            None,
        )
        .await;
    let served: Vec<String> = history
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|m| {
            format!(
                "#{:<6} {}: {} [{}]",
                m["seq"].as_i64().unwrap(),
                m["username"].as_str().unwrap(),
                m["content"].as_str().unwrap(),
                m["id"].as_str().unwrap()
            )
        })
        .collect();
    let replayed: Vec<String> = timeline
        .iter()
        .filter(|line| line.contains(": "))
        .map(|line| line.split_once("  ").unwrap().1.to_owned())
        .collect();
    assert_eq!(replayed, served);
    assert!(timeline[0].contains("room \"general\" created (public)"));
}
