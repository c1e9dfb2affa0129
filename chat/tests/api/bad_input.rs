//! Bad input never yields a 500 and never stores anything.

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn malformed_bodies_get_json_errors_with_the_right_status_and_store_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let before = app.event_count().await;
    let path = format!("/rooms/{room}/messages");
    let send = |content_type: &'static str, body: Vec<u8>| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&alice)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: [(&str, Vec<u8>, StatusCode); 6] = [
        (
            "application/json",
            b"{\"content\": ".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "application/json",
            b"{}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "application/json",
            b"{\"content\": 5}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "application/json",
            b"{\"content\": \"\xff\xfe\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "text/plain",
            b"hello".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "application/json",
            format!("{{\"content\": \"{}\"}}", "x".repeat(70_000)).into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (content_type, body, status) in cases {
        assert_error(send(content_type, body).await.unwrap(), status, None).await;
    }
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn a_nul_character_is_a_422_naming_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let before = app.event_count().await;
    let messages = format!("/rooms/{room}/messages");
    // JSON carries U+0000 as the escape \u0000, which serde_json writes for it.
    let cases = [
        (
            messages.as_str(),
            json!({"content": "before\u{0}after"}),
            "message must not contain the NUL character (U+0000)",
        ),
        (
            messages.as_str(),
            json!({"content": "fine", "client_msg_id": "id\u{0}"}),
            "client_msg_id must not contain the NUL character (U+0000)",
        ),
        (
            "/rooms/",
            json!({"name": "gen\u{0}eral", "is_private": false}),
            "room name must not contain the NUL character (U+0000)",
        ),
    ];
    for (path, body, detail) in cases {
        assert!(body.to_string().contains("\\u0000"), "{body}");
        let response = app.post_json(path, Some(&alice), &body).await;
        let error = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, Some(detail)).await;
        assert_eq!(error["code"], "invalid_input");
    }
    let response = app
        .post_json(
            "/auth/register",
            None,
            &json!({"username": "nul\u{0}name", "password": "long enough"}),
        )
        .await;
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn a_room_id_that_is_not_a_uuid_is_a_json_422() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let response = app
        .post_json("/rooms/not-a-uuid/join", Some(&alice), &json!({}))
        .await;
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, None).await;
}

#[tokio::test]
async fn an_unknown_api_path_is_a_json_404() {
    let app = spawn_app().await;
    let response = app.get("/rooms/x/y/z", None).await;
    assert_error(response, StatusCode::NOT_FOUND, None).await;
}

fn token(secret: &[u8], algorithm: Algorithm, expires_in: i64) -> String {
    let claims = json!({
        "sub": "alice",
        "uid": Uuid::new_v4(),
        "jti": Uuid::new_v4(),
        "iat": Utc::now().timestamp(),
        "iat_ms": Utc::now().timestamp_millis(),
        "exp": Utc::now().timestamp() + expires_in,
    });
    jsonwebtoken::encode(
        &Header::new(algorithm),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test]
async fn expired_wrongly_signed_and_unsigned_tokens_are_401() {
    let app = spawn_app().await;
    let unsigned = {
        let header = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = base64_url(
            json!({"sub": "alice", "uid": Uuid::new_v4(), "exp": Utc::now().timestamp() + 600})
                .to_string()
                .as_bytes(),
        );
        format!("{header}.{claims}.")
    };
    let tokens = [
        token(testkit::JWT_SECRET.as_bytes(), Algorithm::HS256, -60),
        token(b"another-secret", Algorithm::HS256, 600),
        token(testkit::JWT_SECRET.as_bytes(), Algorithm::HS512, 600),
        unsigned,
        "garbage".to_owned(),
    ];
    for token in tokens {
        let response = app
            .post_json(
                "/rooms/",
                Some(&token),
                &json!({"name": "x", "is_private": false}),
            )
            .await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_error(response, StatusCode::UNAUTHORIZED, None).await;
    }
    assert_eq!(app.event_count().await, 0);
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
