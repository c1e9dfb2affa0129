use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn registering_answers_the_seeds_shape() {
    let app = spawn_app().await;
    let response = app.register("Alice").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "Alice");
    assert!(body["id"].is_string());
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_taken_username_is_refused_whatever_its_case() {
    let app = spawn_app().await;
    app.register("alice").await;
    for again in ["alice", "ALICE", " Alice "] {
        let response = app.register(again).await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            Some("Username already registered"),
        )
        .await;
    }
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn twenty_concurrent_registrations_of_one_name_make_one_user() {
    let app = spawn_app().await;
    let names = (0..20).map(|n| if n % 2 == 0 { "bob" } else { "BoB" });
    let responses = join_all(names.map(|name| app.register(name))).await;
    let statuses: Vec<_> = responses.iter().map(|r| r.status()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1);
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count(),
        19
    );
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn invalid_usernames_and_passwords_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let cases = [
        json!({"username": "ab", "password": "long enough"}),
        json!({"username": "has space", "password": "long enough"}),
        json!({"username": "carol", "password": "short"}),
        json!({"username": "carol", "password": "p".repeat(73)}),
    ];
    for body in cases {
        let response = app.post_json("/auth/register", None, &body).await;
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    }
    assert_eq!(app.event_count().await, 0);
}
