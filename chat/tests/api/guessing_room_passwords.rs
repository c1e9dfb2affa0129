//! Guessing a private room's password is limited per user and room (429 with `Retry-After`),
//! and a guess is checked before the join is queued, so the room's members post as usual
//! meanwhile.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with, TestApp};

async fn join(app: &TestApp, token: &str, room: &str, password: &str) -> reqwest::Response {
    app.post_json(
        &format!("/rooms/{room}/join"),
        Some(token),
        &json!({ "password": password }),
    )
    .await
}

#[tokio::test]
async fn wrong_passwords_past_the_limit_are_refused_for_that_user_and_room_only() {
    let app = spawn_app_with(&["--room-password-rate", "2"]).await;
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let bob = app.user("bob").await;
    let vault = app.room(&alice, "vault", Some("sesame")).await;
    let attic = app.room(&alice, "attic", Some("open up")).await;

    for guess in ["guess 1", "guess 2"] {
        let refused = join(&app, &mallory, &vault, guess).await;
        assert_error(
            refused,
            StatusCode::FORBIDDEN,
            Some("Invalid room password"),
        )
        .await;
    }
    let limited = join(&app, &mallory, &vault, "sesame").await;
    assert!(limited.headers().contains_key("retry-after"));
    let error = assert_error(limited, StatusCode::TOO_MANY_REQUESTS, None).await;
    assert_eq!(error["code"], "rate_limited");

    // Others are unaffected: bob joins the same room, mallory another, and alice posts.
    assert_eq!(
        join(&app, &bob, &vault, "sesame").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        join(&app, &mallory, &attic, "open up").await.status(),
        StatusCode::OK
    );
    let posted = app.post_message(&alice, &vault, "still here").await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    // A member's join needs no password, so no limit applies to it.
    assert_eq!(
        join(&app, &alice, &vault, "whatever").await.status(),
        StatusCode::OK
    );
}
