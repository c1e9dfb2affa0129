//! A user logs a token out, or every token, or changes the password: from then on those tokens
//! get 401 on every endpoint that needs one, on every node, within a second, and their open
//! sockets close with 4001.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::helpers::{assert_error, spawn_app, spawn_app_on, spawn_app_with, TestApp, PASSWORD};
use crate::sockets::Frame;

/// How soon a revocation must reach every node.
const WITHIN: Duration = Duration::from_secs(1);

impl TestApp {
    pub async fn log_out(&self, token: &str, path: &str) {
        let response = self.post_json(path, Some(token), &json!({})).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "POST {path}");
    }

    pub async fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
    ) -> reqwest::Response {
        self.post_json(
            "/users/me/password",
            Some(token),
            &json!({"current_password": current, "new_password": new}),
        )
        .await
    }

    /// Answers the token of a fresh login.
    pub async fn logged_in(&self, username: &str, password: &str) -> String {
        let response = self.login(username, password).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Waits (up to [`WITHIN`]) until `GET /users/me` refuses `token` with 401, and answers how
    /// long that took.
    async fn refused_within(&self, token: &str) -> Duration {
        let started = Instant::now();
        loop {
            let status = self.get("/users/me", Some(token)).await.status();
            if status == StatusCode::UNAUTHORIZED {
                return started.elapsed();
            }
            assert_eq!(status, StatusCode::OK);
            assert!(
                started.elapsed() < WITHIN,
                "still accepted after {WITHIN:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn close_within(socket: &mut crate::sockets::Socket, wait: Duration) -> (u16, String) {
    loop {
        match socket.frame_within(wait).await {
            Some(Frame::Json(_)) => {}
            Some(Frame::Close(code, reason)) => return (code, reason),
            other => panic!("expected a close frame within {wait:?}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_logged_out_token_gets_401_and_its_socket_on_another_node_closes_with_4001_within_a_second(
) {
    let a = spawn_app().await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    let alice = a.user("alice").await;
    let room = a.room(&alice, "lobby", None).await;
    let mut on_b = b.socket(&room, &alice, "v=2").await;

    a.log_out(&alice, "/auth/logout").await;

    let (code, reason) = close_within(&mut on_b, WITHIN).await;
    assert_eq!((code, reason.as_str()), (4001, "token revoked"));
    b.refused_within(&alice).await;
    let refused = a.get("/users/me", Some(&alice)).await;
    let body = assert_error(refused, StatusCode::UNAUTHORIZED, None).await;
    assert_eq!(body["code"], "token_revoked");
    // Every endpoint that needs a token refuses it; one that needs none ignores it.
    let post = a.post_message(&alice, &room, "still me?").await;
    assert_eq!(post.status(), StatusCode::UNAUTHORIZED);
    let again = a.post_json("/auth/logout", Some(&alice), &json!({})).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let rooms = a.get("/rooms/", Some(&alice)).await;
    assert_eq!(rooms.status(), StatusCode::OK);
    let rooms: Value = rooms.json().await.unwrap();
    assert!(rooms[0].get("is_member").is_none(), "read as anonymous");
    let refused = b.open_socket(&room, &alice, "").await.close_frame().await;
    assert_eq!(refused.0, 4001);
}

#[tokio::test]
async fn logging_one_token_out_leaves_the_users_other_tokens_working() {
    let app = spawn_app().await;
    let phone = app.user("alice").await;
    let laptop = app.logged_in("alice", PASSWORD).await;
    app.log_out(&phone, "/auth/logout").await;
    app.refused_within(&phone).await;
    assert_eq!(
        app.get("/users/me", Some(&laptop)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_token_issued_before_and_a_new_login_works() {
    let a = spawn_app().await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    let phone = a.user("alice").await;
    let laptop = a.logged_in("alice", PASSWORD).await;
    let room = a.room(&phone, "lobby", None).await;
    let mut on_b = b.socket(&room, &laptop, "").await;

    a.log_out(&phone, "/auth/logout-all").await;

    assert_eq!(close_within(&mut on_b, WITHIN).await.0, 4001);
    b.refused_within(&phone).await;
    b.refused_within(&laptop).await;
    let fresh = b.logged_in("alice", PASSWORD).await;
    assert_eq!(
        a.get("/users/me", Some(&fresh)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        b.get("/users/me", Some(&fresh)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn after_a_password_change_the_old_password_and_every_older_token_fail_and_the_returned_token_works(
) {
    let a = spawn_app().await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    let alice = a.user("alice").await;
    let other = a.logged_in("alice", PASSWORD).await;
    let room = a.room(&alice, "lobby", None).await;
    let mut on_b = b.socket(&room, &other, "v=2").await;

    let response = a
        .change_password(&alice, PASSWORD, "a brand new secret")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    let fresh = body["access_token"].as_str().unwrap().to_owned();

    assert_eq!(close_within(&mut on_b, WITHIN).await.0, 4001);
    b.refused_within(&alice).await;
    b.refused_within(&other).await;
    for node in [&a, &b] {
        let me = node.get_json("/users/me", Some(&fresh)).await;
        assert_eq!(me["username"], "alice");
        let old = node.login("alice", PASSWORD).await;
        assert_error(
            old,
            StatusCode::UNAUTHORIZED,
            Some("Incorrect username or password"),
        )
        .await;
        node.logged_in("alice", "a brand new secret").await;
    }
    b.socket(&room, &fresh, "").await;
}

#[tokio::test]
async fn a_wrong_current_password_is_403_an_invalid_new_one_422_and_neither_changes_anything() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let events = app.event_count().await;
    let wrong = app
        .change_password(&alice, "not my password", "a brand new secret")
        .await;
    let body = assert_error(wrong, StatusCode::FORBIDDEN, None).await;
    assert_eq!(body["code"], "invalid_current_password");
    for new in ["short", &"p".repeat(73), ""] {
        let invalid = app.change_password(&alice, PASSWORD, new).await;
        assert_error(invalid, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    }
    let missing = app
        .post_json(
            "/users/me/password",
            Some(&alice),
            &json!({"new_password": "long enough"}),
        )
        .await;
    assert_error(missing, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    let anonymous = app
        .change_password("", PASSWORD, "a brand new secret")
        .await;
    assert_error(anonymous, StatusCode::UNAUTHORIZED, None).await;
    assert_eq!(app.event_count().await, events);
    assert_eq!(
        app.get("/users/me", Some(&alice)).await.status(),
        StatusCode::OK
    );
    app.logged_in("alice", PASSWORD).await;
}

#[tokio::test]
async fn wrong_current_passwords_count_against_the_users_login_limit() {
    let app = spawn_app_with(&["--login-rate", "3"]).await;
    let alice = app.user("alice").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let wrong = app
            .change_password(&alice, "guess guess", "a brand new secret")
            .await;
        statuses.push(wrong.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[tokio::test]
async fn a_token_expiring_on_an_open_socket_closes_it_with_4001() {
    let app = spawn_app_with(&["--token-ttl", "2s"]).await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut socket = app.socket(&room, &alice, "").await;
    let (code, reason) = close_within(&mut socket, Duration::from_secs(4)).await;
    assert_eq!((code, reason.as_str()), (4001, "token expired"));
    let body = assert_error(
        app.get("/users/me", Some(&alice)).await,
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;
    assert_eq!(body["code"], "token_expired");
}

#[tokio::test]
async fn a_node_started_after_a_logout_refuses_the_token_from_its_first_request() {
    let a = spawn_app().await;
    let alice = a.user("alice").await;
    let kept = a.logged_in("alice", PASSWORD).await;
    a.log_out(&alice, "/auth/logout").await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    assert_eq!(
        b.get("/users/me", Some(&alice)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        b.get("/users/me", Some(&kept)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logins_racing_a_password_change_either_fail_or_survive_it_never_both() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let racing: Vec<_> = (0..30)
        .map(|_| {
            let (client, url) = (app.client.clone(), app.url("/auth/login"));
            tokio::spawn(async move {
                client
                    .post(url)
                    .form(&[("username", "alice"), ("password", PASSWORD)])
                    .send()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let changed = app
        .change_password(&alice, PASSWORD, "a brand new secret")
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    // Whatever an old-password login got is refused now: it was issued before the change.
    for login in racing {
        let response = login.await.unwrap();
        if response.status() == StatusCode::OK {
            let body: Value = response.json().await.unwrap();
            let token = body["access_token"].as_str().unwrap().to_owned();
            app.refused_within(&token).await;
        }
    }
}
