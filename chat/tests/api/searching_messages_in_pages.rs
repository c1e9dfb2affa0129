//! How a search is written (phrases, `-word`, `or`), how its results page, and what it refuses.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, spawn_app};
use crate::searching_messages::{contents, found, posted, projected, search};

#[tokio::test]
async fn phrases_exclusions_and_alternatives_read_as_on_the_web() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "zoo", None).await;
    for content in [
        "the quick brown fox",
        "the brown quick fox",
        "a quick dog",
        "a lazy cat",
        "Quick, CAPITALS count as lower case",
    ] {
        posted(&app, &alice, &room, content).await;
    }
    projected(&app, &room, 5).await;
    let sorted = |mut found: Vec<String>| {
        found.sort();
        found
    };

    assert_eq!(
        contents(&app, &alice, "\"quick brown\"").await,
        ["the quick brown fox"]
    );
    assert_eq!(
        sorted(contents(&app, &alice, "brown quick").await),
        ["the brown quick fox", "the quick brown fox"]
    );
    assert_eq!(
        sorted(contents(&app, &alice, "quick -fox -capitals").await),
        ["a quick dog"]
    );
    assert_eq!(
        sorted(contents(&app, &alice, "cat or dog").await),
        ["a lazy cat", "a quick dog"]
    );
    assert_eq!(
        contents(&app, &alice, "QUICK capitals").await,
        ["Quick, CAPITALS count as lower case"]
    );
    assert!(contents(&app, &alice, "giraffe").await.is_empty());
    // Words are not stemmed: any language is searched alike, and a word is a word.
    assert!(contents(&app, &alice, "foxes").await.is_empty());
}

#[tokio::test]
async fn results_page_by_cursor_best_first_without_repeats_or_skips() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "orchard", None).await;
    // Ranks that differ, and many that tie.
    for i in 0..25 {
        let mangoes = "mango ".repeat(i % 4 + 1);
        posted(&app, &alice, &room, &format!("{mangoes}number {i}")).await;
    }
    posted(&app, &alice, &room, "no fruit here").await;
    projected(&app, &room, 26).await;

    let whole = found(&app, &alice, &[("q", "mango"), ("limit", "100")]).await;
    let everything: Vec<Value> = whole["results"].as_array().unwrap().clone();
    assert_eq!(everything.len(), 25);
    assert_eq!(whole["next"], Value::Null);
    let mango_count = |result: &Value| result["snippet"].as_str().unwrap().matches("mango").count();
    let counts: Vec<usize> = everything.iter().map(mango_count).collect();
    assert!(
        counts.windows(2).all(|pair| pair[0] >= pair[1]),
        "the most mangoes first: {counts:?}"
    );

    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params = vec![("q", "mango".to_owned()), ("limit", "7".to_owned())];
        if let Some(cursor) = &cursor {
            params.push(("cursor", cursor.clone()));
        }
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = found(&app, &alice, &params).await;
        let results = page["results"].as_array().unwrap();
        assert!(results.len() <= 7);
        paged.extend(results.iter().cloned());
        match page["next"].as_str() {
            Some(next) => {
                assert_eq!(results.len(), 7);
                cursor = Some(next.to_owned());
            }
            None => break,
        }
        assert!(paged.len() <= 25, "pages never end");
    }
    let ids = |results: &[Value]| -> Vec<String> {
        results
            .iter()
            .map(|result| result["message"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&paged),
        ids(&everything),
        "the same order, page by page"
    );
    assert_eq!(ids(&paged).into_iter().collect::<HashSet<_>>().len(), 25);

    // Page sizes are clamped, whatever whole number is asked for.
    for (limit, expected) in [
        ("0", 1),
        ("-5", 1),
        ("1", 1),
        ("1000", 25),
        ("9223372036854775807", 25),
    ] {
        let page = found(&app, &alice, &[("q", "mango"), ("limit", limit)]).await;
        assert_eq!(
            page["results"].as_array().unwrap().len(),
            expected,
            "limit={limit}"
        );
    }
    let default = found(&app, &alice, &[("q", "mango")]).await;
    assert_eq!(default["results"].as_array().unwrap().len(), 20);
    assert!(default["next"].is_string());
}

#[tokio::test]
async fn a_search_that_cannot_be_run_is_refused_with_why() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let long = "word ".repeat(52);
    let refusals: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "invalid_query"),
        (vec![("q", "")], "invalid_search"),
        (vec![("q", " \t\n ")], "invalid_search"),
        (vec![("q", "!!! ... ---")], "invalid_search"),
        (vec![("q", "\"\"")], "invalid_search"),
        (vec![("q", "-spam")], "invalid_search"),
        (vec![("q", "ham or -spam")], "invalid_search"),
        (vec![("q", "a\0b")], "invalid_search"),
        (vec![("q", &long)], "invalid_search"),
        (vec![("q", "ok"), ("cursor", "nonsense")], "invalid_query"),
        (vec![("q", "ok"), ("cursor", "")], "invalid_query"),
        (vec![("q", "ok"), ("limit", "many")], "invalid_query"),
        (
            vec![("q", "ok"), ("limit", "99999999999999999999")],
            "invalid_query",
        ),
        (
            vec![("q", "ok"), ("room_id", "not-a-room")],
            "invalid_query",
        ),
    ];
    for (params, code) in refusals {
        let response = search(&app, Some(&alice), &params).await;
        let body = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, None).await;
        assert_eq!(body["code"], code, "{params:?}: {body}");
        assert!(!body["detail"].as_str().unwrap().is_empty());
    }
    let no_words = search(&app, Some(&alice), &[("q", "!!!")]).await;
    let body = assert_error(no_words, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    assert!(
        body["detail"].as_str().unwrap().contains("no word"),
        "{body}"
    );

    // At the limits: 256 characters, odd words, a cursor of the right form from nowhere.
    let longest = "é".repeat(256);
    for q in [
        longest.as_str(),
        "😀 or x",
        "<b>",
        "'; DROP TABLE messages; --",
        "a:* & !b | (c",
    ] {
        let page = found(&app, &alice, &[("q", q)]).await;
        assert_eq!(page["results"], serde_json::json!([]), "{q}");
    }
    let cursor = "3f800000.1700000000000000.01234567-89ab-cdef-0123-456789abcdef.5";
    let page = found(&app, &alice, &[("q", "ok"), ("cursor", cursor)]).await;
    assert_eq!(page["next"], Value::Null);
}
