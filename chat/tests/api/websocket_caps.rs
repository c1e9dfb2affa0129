//! Nobody holds more than their share of sockets: past a cap per user, per client address or on
//! the server, a socket is closed at once with 1013 and the limit it met, and everyone else's
//! sockets open and carry on as before.

use std::time::Duration;

use tokio::net::TcpSocket;

use crate::helpers::{spawn_app_with, TestApp};
use crate::sockets::{Frame, Socket};

/// The close frame of a socket refused for `limit`.
async fn refused(socket: &mut Socket, limit: &str) {
    let (code, reason) = socket.close_frame().await;
    assert_eq!(code, 1013, "{reason}");
    assert!(reason.starts_with(limit), "{reason}");
}

/// Opens a socket from another loopback address than the stories' usual 127.0.0.1.
async fn socket_from(app: &TestApp, local: &str, room: &str, token: &str) -> Socket {
    let tcp = TcpSocket::new_v4().unwrap();
    tcp.bind(format!("{local}:0").parse().unwrap()).unwrap();
    let server = app.address.trim_start_matches("http://").parse().unwrap();
    let stream = tcp.connect(server).await.unwrap();
    let url = app.ws_url(room, &format!("token={token}&v=2"));
    let (stream, _) =
        tokio_tungstenite::client_async(&url, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
    let mut socket = Socket::from_stream(stream, &url);
    socket.ready(true).await;
    socket
}

#[tokio::test]
async fn a_user_past_their_socket_cap_is_refused_and_others_are_not() {
    let app = spawn_app_with(&["--ws-max-per-user", "2"]).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let first = app.socket(&room, &alice, "v=2").await;
    let mut second = app.socket(&room, &alice, "").await;

    let mut third = app.open_socket(&room, &alice, "v=2").await;
    refused(&mut third, "per-user socket limit reached (2 open)").await;
    let mut bobs = app.socket(&room, &bob, "v=2").await;
    app.post_message(&alice, &room, "still here").await;
    assert_eq!(bobs.next_of("message").await["content"], "still here");
    assert_eq!(second.next_of("message").await["content"], "still here");

    // The cap counts open sockets: once one closes, another may open.
    first.close().await;
    let mut attempts = 0;
    loop {
        let mut again = app.open_socket(&room, &alice, "v=2").await;
        match again.frame().await {
            Frame::Json(frame) if frame["type"] == "presence" => break,
            // The server counts the closed socket out when its session ends, moments later.
            Frame::Close(1013, _) if attempts < 50 => attempts += 1,
            other => panic!("expected the socket to be admitted, got {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_address_past_its_socket_cap_is_refused_and_other_addresses_are_not() {
    let app = spawn_app_with(&["--ws-max-per-address", "2"]).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let _alices = app.socket(&room, &alice, "v=2").await;
    let mut bobs = app.socket(&room, &bob, "v=2").await;

    let mut third = app.open_socket(&room, &bob, "v=2").await;
    refused(&mut third, "per-address socket limit reached (2 open)").await;
    let mut elsewhere = socket_from(&app, "127.0.0.2", &room, &bob).await;
    app.post_message(&alice, &room, "still here").await;
    assert_eq!(elsewhere.next_of("message").await["content"], "still here");
    assert_eq!(bobs.next_of("message").await["content"], "still here");
}

#[tokio::test]
async fn a_server_past_its_socket_cap_refuses_more_and_serves_those_it_has() {
    let app = spawn_app_with(&["--ws-max-per-node", "2"]).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let mut alices = app.socket(&room, &alice, "v=2").await;
    let mut bobs = app.socket(&room, &bob, "").await;

    for token in [&alice, &bob] {
        let mut refused_socket = app.open_socket(&room, token, "v=2").await;
        refused(
            &mut refused_socket,
            "per-node socket limit reached (2 open)",
        )
        .await;
    }
    app.post_message(&alice, &room, "still here").await;
    assert_eq!(alices.next_of("message").await["content"], "still here");
    assert_eq!(bobs.next_of("message").await["content"], "still here");
}
