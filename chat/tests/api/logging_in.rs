use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, claims, spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn a_form_login_answers_a_bearer_token_whose_sub_is_the_username() {
    let app = spawn_app().await;
    let registered: Value = app.register("Alice").await.json().await.unwrap();
    let response = app.login("alice", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    let claims = claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        claims["sub"], "Alice",
        "the seed client shows sub as the user's name"
    );
    assert_eq!(claims["uid"], registered["id"]);
    assert!(claims["exp"].as_i64().unwrap() > chrono::Utc::now().timestamp());
    assert!(
        claims["jti"].is_string(),
        "a token can be named to log it out"
    );
    let iat_ms = claims["iat_ms"].as_i64().unwrap();
    assert!((iat_ms / 1000 - claims["iat"].as_i64().unwrap()).abs() <= 1);
}

#[tokio::test]
async fn swagger_uis_extra_oauth2_fields_and_json_logins_are_accepted() {
    let app = spawn_app().await;
    app.register("alice").await;
    let form = format!(
        "grant_type=password&username=alice&password={}&scope=&client_id=",
        PASSWORD.replace(' ', "+")
    );
    let response = app
        .client
        .post(app.url("/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = json!({"username": "alice", "password": PASSWORD});
    let response = app.post_json("/auth/login", None, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_bad_login_is_401_with_the_seeds_detail_and_a_bearer_challenge() {
    let app = spawn_app().await;
    app.register("alice").await;
    let too_long = "p".repeat(73);
    for (username, password) in [
        ("alice", "wrong password"),
        ("nobody", PASSWORD),
        ("x", PASSWORD),
        ("alice", too_long.as_str()),
    ] {
        let response = app.login(username, password).await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_error(
            response,
            StatusCode::UNAUTHORIZED,
            Some("Incorrect username or password"),
        )
        .await;
    }
}

#[tokio::test]
async fn login_attempts_beyond_the_rate_are_refused_with_retry_after() {
    let app = spawn_app_with(&["--login-rate", "3"]).await;
    for _ in 0..3 {
        app.login("mallory", "guess guess").await;
    }
    let response = app.login("mallory", "guess guess").await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, None).await;
}
