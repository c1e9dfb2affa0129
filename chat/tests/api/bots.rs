//! A user creates a bot, the bot joins a room, posts and follows the feed with its `chatbot_`
//! token; its owner revokes it, and from then on it gets 401 and its socket and stream close
//! within a second.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_on, spawn_app_with, TestApp};

impl TestApp {
    /// Creates the bot `<name>.bot` for the holder of `owner`; answers `{id, username, token}`.
    pub async fn bot(&self, owner: &str, name: &str) -> Value {
        let response = self
            .post_json("/bots", Some(owner), &json!({"name": name}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_bot_is_created_joins_posts_as_a_bot_and_stops_at_once_when_revoked() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let bot = app.bot(&alice, "helper").await;
    let token = bot["token"].as_str().unwrap();
    assert_eq!(bot["username"], "helper.bot");
    let secret = token.strip_prefix("chatbot_").expect("the prefix");
    assert_eq!(secret.len(), 43, "256 bits in base64url");

    let me = app.get_json("/users/me", Some(token)).await;
    assert_eq!(me["username"], "helper.bot");
    let joined = app
        .post_json(&format!("/rooms/{room}/join"), Some(token), &json!({}))
        .await;
    assert_eq!(joined.status(), StatusCode::OK);
    let posted: Value = app
        .post_message(token, &room, "beep")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(posted["is_bot"], true);
    let human: Value = app
        .post_message(&alice, &room, "hi")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(human["is_bot"], false);
    let history = app
        .get_json(
            &format!("/rooms/{room}/messages?min_seq={}", human["seq"]),
            None,
        )
        .await;
    let flags: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["is_bot"].clone())
        .collect();
    assert_eq!(flags, [json!(false), json!(true)]);

    let mut socket = app.socket(&room, token, "v=2").await;
    let mut stream = app.follow(token, "", None).await;

    let listed = app.get_json("/bots", Some(&alice)).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        !listed.to_string().contains(secret),
        "the token is shown once"
    );

    let revoked = app
        .delete(&format!("/bots/{}", bot["id"].as_str().unwrap()), &alice)
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_error(
        app.get("/users/me", Some(token)).await,
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;
    assert!(
        stream.ends_within(Duration::from_secs(1)).await,
        "the feed ends"
    );
    let (code, _) = tokio::time::timeout(Duration::from_secs(1), socket.closed())
        .await
        .expect("the socket closes within a second");
    assert_eq!(code, 4001);
    assert_eq!(app.get_json("/bots", Some(&alice)).await, json!([]));

    let again = app
        .delete(&format!("/bots/{}", bot["id"].as_str().unwrap()), &alice)
        .await;
    assert_error(again, StatusCode::NOT_FOUND, Some("Bot not found")).await;
    let hashes = app
        .count("SELECT count(*) FROM events WHERE payload::text LIKE '%token_hash%' OR payload::text LIKE '%chatbot_%'")
        .await;
    assert_eq!(hashes, 0, "no token nor hash in any event");
}

#[tokio::test]
async fn a_bot_cannot_manage_bots_accounts_or_passwords_and_nobody_revokes_anothers_bot() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let bot = app.bot(&alice, "helper").await;
    let token = bot["token"].as_str().unwrap();
    for path in [
        "/bots",
        "/auth/logout",
        "/auth/logout-all",
        "/auth/ws-ticket",
        "/users/me/password",
        "/auth/register",
        "/auth/login",
    ] {
        let response = app.post_json(path, Some(token), &json!({})).await;
        assert_error(
            response,
            StatusCode::FORBIDDEN,
            Some("Bot accounts cannot do this"),
        )
        .await;
    }
    assert_error(
        app.get("/bots", Some(token)).await,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    let login = app.login("helper.bot", "").await;
    assert_eq!(
        login.status(),
        StatusCode::UNAUTHORIZED,
        "a bot has no password"
    );

    let id = bot["id"].as_str().unwrap();
    assert_error(
        app.delete(&format!("/bots/{id}"), &mallory).await,
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    let person = app.get_json("/users/me", Some(&mallory)).await;
    let not_a_bot = app
        .delete(
            &format!("/bots/{}", person["id"].as_str().unwrap()),
            &mallory,
        )
        .await;
    assert_error(not_a_bot, StatusCode::NOT_FOUND, None).await;
    assert_eq!(
        app.get("/users/me", Some(token)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_taken_name_a_bad_name_a_forged_token_and_the_cap_are_refused() {
    let app = spawn_app_with(&["--bots-per-user", "2"]).await;
    let alice = app.user("alice").await;
    app.user("taken.bot").await;
    let taken = app
        .post_json("/bots", Some(&alice), &json!({"name": "taken"}))
        .await;
    assert_error(
        taken,
        StatusCode::BAD_REQUEST,
        Some("Username already registered"),
    )
    .await;
    let taken = app
        .post_json("/bots", Some(&alice), &json!({"name": "TAKEN"}))
        .await;
    assert_eq!(taken.status(), StatusCode::BAD_REQUEST, "whatever its case");
    for name in [
        json!(""),
        json!("x.bot"),
        json!("a b"),
        json!("n".repeat(29)),
        json!("nul\u{0}"),
        json!(7),
    ] {
        let response = app
            .post_json("/bots", Some(&alice), &json!({"name": name}))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}"
        );
    }
    app.bot(&alice, "one").await;
    let two = app.bot(&alice, "two").await;
    let over = app
        .post_json("/bots", Some(&alice), &json!({"name": "three"}))
        .await;
    assert_error(over, StatusCode::BAD_REQUEST, None).await;

    let token = two["token"].as_str().unwrap();
    // Its last character changed, to another whatever it was.
    let (kept, last) = token.split_at(token.len() - 1);
    let forged = format!("{kept}{}", if last == "A" { "B" } else { "A" });
    for bad in [forged.as_str(), "chatbot_", "chatbot_x"] {
        assert_error(
            app.get("/users/me", Some(bad)).await,
            StatusCode::UNAUTHORIZED,
            None,
        )
        .await;
    }
}

#[tokio::test]
async fn creations_at_the_same_instant_in_two_processes_stop_at_the_cap() {
    let app = spawn_app_with(&["--bots-per-user", "3"]).await;
    let other = spawn_app_on(&app.database_url, &["--bots-per-user", "3"]).await;
    let alice = app.user("alice").await;
    let attempts = (0..12).map(|n| {
        let server = if n % 2 == 0 { &app } else { &other };
        server.post_json("/bots", Some(&alice), &json!({"name": format!("racer{n}")}))
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(reqwest::Response::status)
        .collect();
    let created = statuses
        .iter()
        .filter(|status| **status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 3, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|status| [StatusCode::CREATED, StatusCode::BAD_REQUEST].contains(status)),
        "{statuses:?}"
    );
    let listed = app.get_json("/bots", Some(&alice)).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(3));
}
