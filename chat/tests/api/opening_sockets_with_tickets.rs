//! A browser trades its token for a single-use ticket and opens the socket with that, so the
//! token never appears in a URL. Any node redeems a ticket, once, within its lifetime.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_on, spawn_app_with, TestApp};
use crate::sockets::Socket;

impl TestApp {
    pub async fn ticket(&self, token: &str) -> String {
        let response = self
            .post_json("/auth/ws-ticket", Some(token), &json!({}))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["ticket"].as_str().unwrap().to_owned()
    }

    pub async fn socket_with_ticket(&self, room_id: &str, ticket: &str, query: &str) -> Socket {
        Socket::connect(&self.ws_url(room_id, &format!("ticket={ticket}&{query}"))).await
    }
}

#[tokio::test]
async fn a_ticket_opens_one_socket_on_another_node_than_the_one_that_issued_it_and_only_once() {
    let a = spawn_app().await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    let alice = a.user("alice").await;
    let room = a.room(&alice, "lobby", None).await;
    let response = a
        .post_json("/auth/ws-ticket", Some(&alice), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 30);
    let ticket = body["ticket"].as_str().unwrap();
    assert!(ticket.len() >= 22, "at least 128 random bits: {ticket}");
    assert!(!ticket.contains(&alice));

    let mut socket = b.socket_with_ticket(&room, ticket, "v=2").await;
    socket.ready(true).await;
    a.post_message(&alice, &room, "hello").await;
    assert_eq!(socket.next_of("message").await["username"], "alice");

    let mut again = b.socket_with_ticket(&room, ticket, "").await;
    assert_eq!(
        again.close_frame().await,
        (4001, "invalid ticket".to_owned())
    );
    let mut elsewhere = a.socket_with_ticket(&room, ticket, "").await;
    assert_eq!(elsewhere.close_frame().await.0, 4001);
}

#[tokio::test]
async fn two_sockets_racing_for_one_ticket_get_one_socket() {
    let a = spawn_app().await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    let alice = a.user("alice").await;
    let room = a.room(&alice, "lobby", None).await;
    let ticket = a.ticket(&alice).await;
    let (mut on_a, mut on_b) = tokio::join!(
        a.socket_with_ticket(&room, &ticket, "v=2"),
        b.socket_with_ticket(&room, &ticket, "v=2"),
    );
    let (first, second) = tokio::join!(on_a.frame(), on_b.frame());
    let refused = [&first, &second]
        .iter()
        .filter(|frame| matches!(frame, crate::sockets::Frame::Close(4001, _)))
        .count();
    assert_eq!(refused, 1, "{first:?} / {second:?}");
}

#[tokio::test]
async fn a_ticket_past_its_lifetime_is_refused() {
    let app = spawn_app_with(&["--ws-ticket-ttl", "1s"]).await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let ticket = app.ticket(&alice).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut socket = app.socket_with_ticket(&room, &ticket, "").await;
    assert_eq!(
        socket.close_frame().await,
        (4001, "invalid ticket".to_owned())
    );
}

#[tokio::test]
async fn unknown_tickets_are_refused_and_a_token_with_a_ticket_is_a_bad_request() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    for unknown in ["", "nope", &"A".repeat(43), "%00", &"x".repeat(5000)] {
        let mut socket = app.socket_with_ticket(&room, unknown, "").await;
        assert_eq!(socket.close_frame().await.0, 4001, "{unknown:?}");
    }
    let ticket = app.ticket(&alice).await;
    let url = app.ws_url(&room, &format!("token={alice}&ticket={ticket}"));
    let (code, _) = Socket::connect(&url).await.close_frame().await;
    assert_eq!(code, 4000);
    let anonymous = app.post_json("/auth/ws-ticket", None, &json!({})).await;
    assert_error(anonymous, StatusCode::UNAUTHORIZED, None).await;
}

#[tokio::test]
async fn a_socket_opened_with_a_ticket_closes_when_its_token_is_logged_out() {
    let a = spawn_app().await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    let alice = a.user("alice").await;
    let room = a.room(&alice, "lobby", None).await;
    let ticket = a.ticket(&alice).await;
    let mut socket = b.socket_with_ticket(&room, &ticket, "").await;
    socket.ready(false).await;
    let unused = a.ticket(&alice).await;
    a.log_out(&alice, "/auth/logout").await;
    let closed = tokio::time::timeout(Duration::from_secs(1), socket.closed()).await;
    assert_eq!(
        closed.expect("closed within a second"),
        (4001, "token revoked".to_owned())
    );
    let mut late = b.socket_with_ticket(&room, &unused, "").await;
    assert_eq!(late.close_frame().await, (4001, "token revoked".to_owned()));
}

#[tokio::test]
async fn a_socket_opened_with_a_ticket_closes_when_its_token_expires() {
    let app = spawn_app_with(&["--token-ttl", "2s"]).await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let ticket = app.ticket(&alice).await;
    let mut socket = app.socket_with_ticket(&room, &ticket, "").await;
    socket.ready(false).await;
    let closed = tokio::time::timeout(Duration::from_secs(4), socket.closed()).await;
    assert_eq!(
        closed.expect("closed once the token expired"),
        (4001, "token expired".to_owned())
    );
}
