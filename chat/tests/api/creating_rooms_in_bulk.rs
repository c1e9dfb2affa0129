//! A user who creates rooms in bulk is refused past the hourly limit (429 with `Retry-After`),
//! before any password is hashed; other users create as before.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with};

#[tokio::test]
async fn room_creations_past_the_limit_are_refused_for_that_user_only() {
    let app = spawn_app_with(&["--room-create-rate", "2"]).await;
    let mallory = app.user("mallory").await;
    let alice = app.user("alice").await;
    app.room(&mallory, "one", None).await;
    app.room(&mallory, "two", Some("sesame")).await;
    let events = app.event_count().await;

    let third = app
        .post_json(
            "/rooms/",
            Some(&mallory),
            &json!({"name": "three", "is_private": true, "password": "sesame"}),
        )
        .await;
    let retry_after: u64 = third.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let error = assert_error(third, StatusCode::TOO_MANY_REQUESTS, None).await;
    assert_eq!(error["code"], "rate_limited");
    assert!(
        (1..=3600).contains(&retry_after),
        "an hour's share: {retry_after}"
    );
    assert_eq!(app.event_count().await, events, "nothing was stored");

    app.room(&alice, "three", None).await;
}
