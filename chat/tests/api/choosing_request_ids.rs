//! A client may name its request (`X-Request-Id`, 1–64 of `A-Z a-z 0-9 . _ -`); any other id is
//! replaced by a fresh one, which is what the answer echoes and the events store.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

/// Posts as the holder of `token` with `request_id`; answers the id the server echoed and the
/// one the new event stored.
async fn post_with_request_id(
    app: &TestApp,
    token: &str,
    room: &str,
    request_id: &str,
) -> (String, String) {
    let response = app
        .client
        .post(app.url(&format!("/rooms/{room}/messages")))
        .bearer_auth(token)
        .header("x-request-id", request_id)
        .json(&json!({"content": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let echoed = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let stored: String = sqlx::query_scalar(
        "SELECT metadata ->> 'request_id' FROM events ORDER BY position DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    (echoed, stored)
}

#[tokio::test]
async fn an_acceptable_request_id_is_kept_and_any_other_replaced_by_a_fresh_one() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;

    let kept = "trace-42.retry_1";
    assert_eq!(
        post_with_request_id(&app, &alice, &room, kept).await,
        (kept.to_owned(), kept.to_owned())
    );

    for refused in ["x".repeat(65), "has spaces".to_owned(), "a/b".to_owned()] {
        let (echoed, stored) = post_with_request_id(&app, &alice, &room, &refused).await;
        assert_eq!(echoed, stored);
        assert!(
            Uuid::parse_str(&echoed).is_ok(),
            "a fresh id, not {echoed:?}"
        );
    }
}
