//! `offset` skips at most 10,000 messages; deeper, the answer says to page with `before_seq`,
//! which reaches any depth for the price of one page.

use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn an_offset_past_ten_thousand_is_refused_with_the_cursor_to_use_instead() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    app.post_message(&alice, &room, "hello").await;

    let deepest = app
        .get_json(&format!("/rooms/{room}/messages?offset=10000"), None)
        .await;
    assert_eq!(deepest, serde_json::json!([]));

    for offset in ["10001", "4000000000"] {
        let path = format!("/rooms/{room}/messages?offset={offset}");
        let refused = app.get(&path, None).await;
        let error = assert_error(refused, StatusCode::UNPROCESSABLE_ENTITY, None).await;
        let detail = error["detail"].as_str().unwrap();
        assert!(detail.contains("before_seq"), "{detail}");
        assert!(detail.contains("10000"), "{detail}");
    }
}
