//! `GET /rooms/` answers every room as the seed does; with `limit` or `after` it answers one
//! page, in the same order, and links the next while more remain.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, spawn_app, TestApp};

/// The page at `path`, and the path of the next one from its `Link` header.
async fn page(app: &TestApp, path: &str) -> (Vec<String>, Option<String>) {
    let response = app.get(path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    let next = response.headers().get("link").map(|link| {
        let link = link.to_str().unwrap();
        assert!(link.ends_with(">; rel=\"next\""), "{link}");
        link[1..link.find('>').unwrap()].to_owned()
    });
    let rooms: Vec<Value> = response.json().await.unwrap();
    let names = rooms
        .iter()
        .map(|room| room["name"].as_str().unwrap().to_owned())
        .collect();
    (names, next)
}

#[tokio::test]
async fn pages_of_rooms_follow_one_another_in_the_order_of_the_full_list() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for n in 0..5 {
        app.room(&alice, &format!("room {n}"), None).await;
    }

    let (everything, no_link) = page(&app, "/rooms/").await;
    assert_eq!(everything.len(), 5);
    assert_eq!(no_link, None, "the seed's listing has no pages");

    let mut paged = Vec::new();
    let mut pages = 0;
    let mut next = Some("/rooms/?limit=2".to_owned());
    while let Some(path) = next {
        let (names, link) = page(&app, &path).await;
        assert!(names.len() <= 2);
        paged.extend(names);
        pages += 1;
        next = link;
    }
    assert_eq!(paged, everything);
    assert_eq!(pages, 3);

    let (one, _) = page(&app, "/rooms/?limit=0").await;
    assert_eq!(one, everything[..1], "a limit below 1 reads as 1");
}

#[tokio::test]
async fn a_cursor_the_server_did_not_give_is_refused() {
    let app = spawn_app().await;
    for after in ["nonsense", "bm90IGEgY3Vyc29y", ""] {
        let refused = app.get(&format!("/rooms/?after={after}"), None).await;
        let error = assert_error(refused, StatusCode::UNPROCESSABLE_ENTITY, None).await;
        assert_eq!(error["code"], "invalid_query");
    }
}
