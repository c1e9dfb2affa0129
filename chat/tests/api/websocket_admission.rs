//! Only members with a valid token get a room's socket; everyone else gets one close frame
//! that says why, and no data.

use chrono::Utc;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;

use crate::helpers::spawn_app;
use crate::sockets::Socket;

async fn refusal(app: &crate::helpers::TestApp, url: &str) -> (u16, String) {
    let mut socket = Socket::connect(url).await;
    let close = socket.close_frame().await;
    // The server keeps serving: it answers the next request.
    let status = app.get("/docs/", None).await.status();
    assert!(status.is_success());
    close
}

#[tokio::test]
async fn bad_tokens_are_refused_with_4001() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let expired = encode(
        &Header::default(),
        &json!({"sub": "alice", "uid": uuid::Uuid::nil(), "jti": uuid::Uuid::nil(), "iat": 0, "iat_ms": 0, "exp": Utc::now().timestamp() - 60}),
        &EncodingKey::from_secret(testkit::JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let forged = encode(
        &Header::default(),
        &json!({"sub": "alice", "uid": uuid::Uuid::nil(), "jti": uuid::Uuid::nil(), "iat": 0, "iat_ms": 0, "exp": Utc::now().timestamp() + 60}),
        &EncodingKey::from_secret(b"the seed's public default"),
    )
    .unwrap();
    for (query, reason) in [
        ("".to_owned(), "missing token"),
        ("token=garbage".to_owned(), "invalid token"),
        (format!("token={forged}"), "invalid token"),
        (format!("token={expired}"), "token expired"),
    ] {
        let (code, why) = refusal(&app, &app.ws_url(&room, &query)).await;
        assert_eq!((code, why.as_str()), (4001, reason), "{query}");
    }
}

#[tokio::test]
async fn non_members_are_refused_with_4003_in_public_and_private_rooms() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let public = app.room(&alice, "lobby", None).await;
    let private = app.room(&alice, "vault", Some("sesame")).await;
    for room in [public, private] {
        let url = app.ws_url(&room, &format!("token={mallory}&v=2"));
        let (code, reason) = refusal(&app, &url).await;
        assert_eq!(code, 4003);
        assert_eq!(reason, "You are not a member of this room");
    }
}

#[tokio::test]
async fn unknown_rooms_are_refused_with_4004_and_malformed_queries_with_4000() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    for room in [uuid::Uuid::new_v4().to_string(), "not-a-uuid".to_owned()] {
        let (code, reason) = refusal(&app, &app.ws_url(&room, &format!("token={alice}"))).await;
        assert_eq!((code, reason.as_str()), (4004, "Room not found"));
    }
    for query in ["v=3", "since=-5", "since=soon"] {
        let url = app.ws_url(&room, &format!("token={alice}&{query}"));
        let (code, _) = refusal(&app, &url).await;
        assert_eq!(code, 4000, "{query}");
    }
}

#[tokio::test]
async fn a_plain_http_request_to_the_socket_path_gets_a_json_error() {
    let app = spawn_app().await;
    let response = app.get("/ws/anything", None).await;
    assert!(response.status().is_client_error());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_a_websocket");
}
