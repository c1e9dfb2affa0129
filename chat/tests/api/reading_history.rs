use std::collections::HashSet;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

async fn history(app: &TestApp, token: Option<&str>, room: &str, query: &str) -> reqwest::Response {
    app.get(&format!("/rooms/{room}/messages{query}"), token)
        .await
}

fn seqs(page: &Value) -> Vec<i64> {
    page.as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

/// Posts `count` messages one after another and answers the last one's seq.
async fn post_many(app: &TestApp, token: &str, room: &str, count: usize) -> i64 {
    let mut last = 0;
    for n in 0..count {
        let posted: Value = app
            .post_message(token, room, &format!("message {n}"))
            .await
            .json()
            .await
            .unwrap();
        last = posted["seq"].as_i64().unwrap();
    }
    last
}

#[tokio::test]
async fn min_seq_returns_the_just_posted_message_on_the_first_call() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let posted: Value = app
        .post_message(&alice, &room, "hello")
        .await
        .json()
        .await
        .unwrap();
    let seq = posted["seq"].as_i64().unwrap();
    let response = history(&app, None, &room, &format!("?min_seq={seq}")).await;
    assert!(response.headers().get("x-projection-pending").is_none());
    let page: Value = response.json().await.unwrap();
    assert_eq!(page[0]["content"], "hello");
    assert_eq!(page[0]["seq"], seq);
    for field in [
        "id",
        "room_id",
        "user_id",
        "username",
        "client_msg_id",
        "created_at",
    ] {
        assert!(page[0].get(field).is_some(), "missing {field}");
    }
}

#[tokio::test]
async fn offset_paging_returns_the_seeds_order_newest_first() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let last = post_many(&app, &alice, &room, 7).await;
    let first = app
        .get_json(
            &format!("/rooms/{room}/messages?limit=3&offset=0&min_seq={last}"),
            None,
        )
        .await;
    let second = app
        .get_json(&format!("/rooms/{room}/messages?limit=3&offset=3"), None)
        .await;
    assert_eq!(first[0]["content"], "message 6");
    assert_eq!(seqs(&first), vec![last, last - 1, last - 2]);
    assert_eq!(seqs(&second), vec![last - 3, last - 4, last - 5]);
}

#[tokio::test]
async fn paging_back_by_cursor_while_500_messages_arrive_neither_skips_nor_repeats() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let last = post_many(&app, &alice, &room, 60).await;
    let first = history(&app, None, &room, &format!("?limit=25&min_seq={last}")).await;
    let mut cursor: i64 = first.headers()["x-next-before-seq"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut seen: Vec<i64> = seqs(&first.json().await.unwrap());

    // 500 more arrive while the reader pages back through the older ones.
    let writer = {
        let posts: Vec<_> = (0..500)
            .map(|n| app.post_message(&alice, &room, &format!("late {n}")))
            .collect();
        tokio::spawn(async move { join_all(posts).await })
    };
    loop {
        let page = history(&app, None, &room, &format!("?limit=25&before_seq={cursor}")).await;
        let next = page
            .headers()
            .get("x-next-before-seq")
            .map(|v| v.to_str().unwrap().parse::<i64>().unwrap());
        let page: Value = page.json().await.unwrap();
        seen.extend(seqs(&page));
        match next {
            Some(next) => cursor = next,
            None => break,
        }
    }
    writer.await.unwrap();

    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a message came twice");
    assert_eq!(
        seen,
        (3..=last).rev().collect::<Vec<_>>(),
        "a message was skipped"
    );
}

#[tokio::test]
async fn paging_forward_from_a_cursor_links_the_next_page() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let last = post_many(&app, &alice, &room, 5).await;
    let response = history(
        &app,
        None,
        &room,
        &format!("?after_seq=3&limit=2&min_seq={last}"),
    )
    .await;
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    let page: Value = response.json().await.unwrap();
    assert_eq!(
        seqs(&page),
        vec![5, 4],
        "the two right after the cursor, newest first"
    );
    assert!(link.contains("after_seq=5"), "{link}");
}

#[tokio::test]
async fn any_whole_limit_is_clamped_and_anything_else_is_a_json_422() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    for clamped in [
        "?limit=100000",
        "?limit=0",
        "?limit=-1",
        "?limit=9223372036854775807",
    ] {
        assert_eq!(
            history(&app, None, &room, clamped).await.status(),
            StatusCode::OK,
            "{clamped}"
        );
    }
    for query in [
        "?limit=x",
        "?limit=9223372036854775808",
        "?offset=-1",
        "?offset=10001",
        "?before_seq=abc",
        "?min_seq=1.5",
    ] {
        assert_error(
            history(&app, None, &room, query).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        )
        .await;
    }
}

#[tokio::test]
async fn private_history_is_refused_to_anonymous_callers_and_non_members() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let room = app.room(&alice, "Secret", Some("sesame")).await;
    app.post_message(&alice, &room, "for members only").await;
    assert_error(
        history(&app, None, &room, "").await,
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;
    assert_error(
        history(&app, Some(&mallory), &room, "").await,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    assert_eq!(
        history(&app, Some(&alice), &room, "").await.status(),
        StatusCode::OK
    );
    // A page the room's one message fills is still refused: the refusal is not only for pages
    // that came back short.
    for query in ["?limit=1", "?after_seq=0&limit=1", "?min_seq=1&limit=1"] {
        assert_error(
            history(&app, None, &room, query).await,
            StatusCode::UNAUTHORIZED,
            None,
        )
        .await;
        assert_error(
            history(&app, Some(&mallory), &room, query).await,
            StatusCode::FORBIDDEN,
            None,
        )
        .await;
    }
    let page: Value = history(&app, Some(&alice), &room, "?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn public_history_needs_no_token_and_ignores_an_expired_one() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let posted: Value = app
        .post_message(&alice, &room, "hi")
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/rooms/{room}/messages?min_seq={}", posted["seq"]);
    let page = app.get_json(&path, Some("not.a.token")).await;
    assert_eq!(
        page,
        json!([{
            "id": posted["id"], "seq": posted["seq"], "room_id": room, "user_id": posted["user_id"],
            "username": "alice", "content": "hi", "client_msg_id": null, "created_at": posted["created_at"],
            "is_bot": false,
            "edited_at": null, "deleted": false, "reactions": [], "reply_to": null, "reply_count": 0,
            "mentions": [],
        }])
    );
    assert_eq!(
        page,
        json!([posted]),
        "history shows a message as posting answered it"
    );
}
