//! Finding messages by their words: only where the searcher may read now, never what was
//! deleted, edited ones by what they say now, and the snippet always as plain text.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};
use crate::rebuilding_and_verifying::chat;

/// `GET /search/messages` with these query parameters, as the holder of `token`.
pub async fn search(app: &TestApp, token: Option<&str>, params: &[(&str, &str)]) -> Response {
    let mut request = app.client.get(app.url("/search/messages")).query(params);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

/// The page a search answers, which must be a 200.
pub async fn found(app: &TestApp, token: &str, params: &[(&str, &str)]) -> Value {
    let response = search(app, Some(token), params).await;
    assert_eq!(response.status(), StatusCode::OK, "{params:?}");
    response.json().await.expect("a JSON body")
}

/// The contents of the messages a search finds, in its order.
pub async fn contents(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    found(app, token, &[("q", q)]).await["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["message"]["content"].as_str().unwrap().to_owned())
        .collect()
}

/// Posts `content` to `room` and answers the message.
pub async fn posted(app: &TestApp, token: &str, room: &str, content: &str) -> Value {
    let response = app.post_message(token, room, content).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// Waits until the read table holds `count` messages of `room` (posting answers before the
/// projector has applied the post).
pub async fn projected(app: &TestApp, room: &str, count: i64) {
    app.eventually(
        &format!("SELECT count(*) FROM messages WHERE room_id = '{room}'"),
        count,
    )
    .await;
}

async fn join(app: &TestApp, token: &str, room: &str, password: Option<&str>) {
    let response = app
        .post_json(
            &format!("/rooms/{room}/join"),
            Some(token),
            &json!({"password": password}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The characters of `snippet` each highlight covers.
fn highlighted(result: &Value) -> Vec<String> {
    let chars: Vec<char> = result["snippet"].as_str().unwrap().chars().collect();
    result["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let start = pair[0].as_u64().unwrap() as usize;
            let end = pair[1].as_u64().unwrap() as usize;
            chars[start..end].iter().collect()
        })
        .collect()
}

#[tokio::test]
async fn a_search_finds_only_what_the_searcher_may_read_now() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let lobby = app.room(&alice, "lobby", None).await;
    let secret = app.room(&alice, "secret", Some("sesame")).await;
    join(&app, &bob, &secret, Some("sesame")).await;
    posted(&app, &alice, &lobby, "pineapple on the public side").await;
    posted(&app, &alice, &secret, "pineapple behind the password").await;
    projected(&app, &lobby, 1).await;
    projected(&app, &secret, 1).await;

    assert_eq!(
        contents(&app, &carol, "pineapple").await,
        ["pineapple on the public side"]
    );
    let mut members_find = contents(&app, &bob, "pineapple").await;
    members_find.sort();
    assert_eq!(
        members_find,
        [
            "pineapple behind the password",
            "pineapple on the public side"
        ]
    );

    // One room: as its history would answer.
    let only_secret = found(&app, &bob, &[("q", "pineapple"), ("room_id", &secret)]).await;
    assert_eq!(only_secret["results"].as_array().unwrap().len(), 1);
    assert_eq!(only_secret["results"][0]["room_id"], secret.as_str());
    let only_lobby = found(&app, &carol, &[("q", "pineapple"), ("room_id", &lobby)]).await;
    assert_eq!(only_lobby["results"][0]["room_id"], lobby.as_str());
    let outsider = search(
        &app,
        Some(&carol),
        &[("q", "pineapple"), ("room_id", &secret)],
    )
    .await;
    let refused = assert_error(outsider, StatusCode::FORBIDDEN, None).await;
    assert_eq!(refused["code"], "not_a_member");
    let nowhere = uuid::Uuid::new_v4().to_string();
    let unknown = search(
        &app,
        Some(&bob),
        &[("q", "pineapple"), ("room_id", &nowhere)],
    )
    .await;
    let missing = assert_error(unknown, StatusCode::NOT_FOUND, None).await;
    assert_eq!(missing["code"], "room_not_found");

    // Leaving a private room takes its messages out of one's searches at once.
    let left = app
        .post_json(&format!("/rooms/{secret}/leave"), Some(&bob), &json!({}))
        .await;
    assert_eq!(left.status(), StatusCode::OK);
    assert_eq!(
        contents(&app, &bob, "pineapple").await,
        ["pineapple on the public side"]
    );
    let former = search(
        &app,
        Some(&bob),
        &[("q", "pineapple"), ("room_id", &secret)],
    )
    .await;
    assert_error(former, StatusCode::FORBIDDEN, None).await;

    // A bot searches like a person; nobody searches without a token.
    let bot = app
        .post_json("/bots", Some(&alice), &json!({"name": "finder"}))
        .await;
    assert_eq!(bot.status(), StatusCode::CREATED);
    let bot: Value = bot.json().await.unwrap();
    let bot_token = bot["token"].as_str().unwrap();
    assert_eq!(
        contents(&app, bot_token, "pineapple").await,
        ["pineapple on the public side"]
    );
    let anonymous = search(&app, None, &[("q", "pineapple")]).await;
    assert_error(anonymous, StatusCode::UNAUTHORIZED, None).await;
    let forged = search(&app, Some("not.a.token"), &[("q", "pineapple")]).await;
    assert_error(forged, StatusCode::UNAUTHORIZED, None).await;
}

#[tokio::test]
async fn a_direct_room_is_searched_by_its_two_members_only() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let direct = app.dm(&alice, "bob").await;
    posted(&app, &alice, &direct, "the kumquat between us").await;
    projected(&app, &direct, 1).await;

    assert_eq!(
        contents(&app, &bob, "kumquat").await,
        ["the kumquat between us"]
    );
    assert_eq!(
        contents(&app, &alice, "kumquat").await,
        ["the kumquat between us"]
    );
    assert!(contents(&app, &carol, "kumquat").await.is_empty());
    let outsider = search(
        &app,
        Some(&carol),
        &[("q", "kumquat"), ("room_id", &direct)],
    )
    .await;
    assert_error(outsider, StatusCode::FORBIDDEN, None).await;
}

#[tokio::test]
async fn deleted_messages_are_never_found_and_edited_ones_by_what_they_say_now() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "kitchen", None).await;
    let jam = posted(&app, &alice, &room, "apricot jam for breakfast").await;
    let edited = posted(&app, &alice, &room, "old wording about banana").await;
    projected(&app, &room, 2).await;
    assert_eq!(contents(&app, &alice, "apricot").await.len(), 1);

    let path =
        |message: &Value| format!("/rooms/{room}/messages/{}", message["id"].as_str().unwrap());
    let deleted = app.call(Method::DELETE, &path(&jam), &alice, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let changed = app
        .call(
            Method::PATCH,
            &path(&edited),
            &alice,
            Some(json!({"content": "new wording about cherry"})),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    app.eventually("SELECT count(*) FROM messages WHERE deleted", 1)
        .await;
    app.eventually(
        "SELECT count(*) FROM messages WHERE content = 'new wording about cherry'",
        1,
    )
    .await;

    for gone in ["apricot", "jam", "banana", "old"] {
        assert!(contents(&app, &alice, gone).await.is_empty(), "{gone}");
    }
    let page = found(&app, &alice, &[("q", "cherry")]).await;
    let result = &page["results"][0];
    assert_eq!(result["snippet"], "new wording about cherry");
    assert_eq!(result["highlights"], json!([[18, 24]]));
    assert_eq!(result["seq"], edited["seq"]);
    assert_eq!(result["message"]["id"], edited["id"]);
    assert!(result["message"]["edited_at"].is_string());
    assert_eq!(page["next"], Value::Null);
}

#[tokio::test]
async fn text_that_looks_like_markup_comes_back_as_typed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "markup", None).await;
    let tagged = "<b>bold</b> claim & <script>alert(1)</script> kiwi a<b and c>d";
    posted(&app, &alice, &room, tagged).await;
    let accented = "😀 Ünïcode déjà vu: kiwi";
    posted(&app, &alice, &room, accented).await;
    let long = format!(
        "{} needle {}",
        "filler words ".repeat(60),
        "trailing text ".repeat(60)
    );
    posted(&app, &alice, &room, &long).await;
    projected(&app, &room, 3).await;

    let bold = found(&app, &alice, &[("q", "bold")]).await;
    assert_eq!(bold["results"][0]["snippet"], tagged);
    assert_eq!(highlighted(&bold["results"][0]), ["bold"]);
    assert_eq!(bold["results"][0]["highlights"], json!([[3, 7]]));
    // What sits between `<` and `>` is text like any other: found, and marked where it is.
    let inside = found(&app, &alice, &[("q", "and")]).await;
    assert_eq!(inside["results"][0]["snippet"], tagged);
    assert_eq!(highlighted(&inside["results"][0]), ["and"]);

    // Offsets count characters (code points), not bytes nor UTF-16 units.
    let accents = found(&app, &alice, &[("q", "déjà kiwi")]).await;
    let result = &accents["results"][0];
    assert_eq!(result["snippet"], accented);
    assert_eq!(highlighted(result), ["déjà", "kiwi"]);
    assert_eq!(result["highlights"], json!([[10, 14], [19, 23]]));

    // A long message comes as the text around its match, not whole.
    let needle = found(&app, &alice, &[("q", "needle")]).await;
    let snippet = needle["results"][0]["snippet"].as_str().unwrap();
    assert!(
        snippet.chars().count() <= 300 && snippet.len() < long.len(),
        "{snippet}"
    );
    assert!(long.contains(snippet), "{snippet}");
    assert_eq!(highlighted(&needle["results"][0]), ["needle"]);
}

#[tokio::test]
async fn messages_posted_before_search_existed_are_found_after_the_upgrade() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "archive", None).await;
    posted(&app, &alice, &room, "an old quince from before").await;
    projected(&app, &room, 1).await;
    // The read model as it was before migration 0085, with the message in it.
    sqlx::raw_sql(
        "DROP INDEX messages_search, messages_by_room;
         ALTER TABLE messages DROP COLUMN search;
         DROP FUNCTION message_search_query, message_search_text;",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::raw_sql(include_str!("../../../migrations/0085_message_search.sql"))
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        contents(&app, &alice, "quince").await,
        ["an old quince from before"]
    );
}

#[tokio::test]
async fn a_rebuilt_read_model_searches_as_before_and_verifies_clean() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "rebuilt", None).await;
    posted(&app, &alice, &room, "persimmon as posted").await;
    let edited = posted(&app, &alice, &room, "plum before the edit").await;
    let deleted = posted(&app, &alice, &room, "persimmon to delete").await;
    projected(&app, &room, 3).await;
    let path =
        |message: &Value| format!("/rooms/{room}/messages/{}", message["id"].as_str().unwrap());
    let edit = json!({"content": "persimmon after the edit"});
    let changed = app
        .call(Method::PATCH, &path(&edited), &alice, Some(edit))
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let removed = app
        .call(Method::DELETE, &path(&deleted), &alice, None)
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    app.eventually(
        "SELECT count(*) FROM messages WHERE deleted OR edited_at IS NOT NULL",
        2,
    )
    .await;

    chat(&app, &["rebuild"]).await.unwrap();
    chat(&app, &["verify"]).await.unwrap();
    let mut found = contents(&app, &alice, "persimmon").await;
    found.sort();
    assert_eq!(found, ["persimmon after the edit", "persimmon as posted"]);
    assert!(contents(&app, &alice, "plum").await.is_empty());
    let indexed = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname = 'messages_search'";
    assert_eq!(app.count(indexed).await, 1);
}
