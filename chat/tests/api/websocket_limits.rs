//! Limits protect the room, not just the server: oversized frames, garbage, floods and clients
//! that stop reading are refused or closed with documented codes, and everyone else carries on.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::net::TcpSocket;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::sockets::{
    assert_refused_in_both_dialects, having, message_seqs, presence_change, Frame, Socket,
};

const KIB: usize = 1024;

/// Alice, her lobby, and a socket of hers there in each dialect (v2, then the seed's v1).
async fn lobby_in_both_dialects(app: &TestApp) -> (String, String, Socket, Socket) {
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let json_socket = app.socket(&room, &alice, "v=2").await;
    let seed = app.socket(&room, &alice, "").await;
    (alice, room, json_socket, seed)
}

#[tokio::test]
async fn a_frame_over_64_kib_is_refused_with_1009_and_nothing_is_stored() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut watcher = app.socket(&room, &alice, "v=2").await;
    let events = app.event_count().await;
    for (dialect, frame) in [
        ("", "x".repeat(64 * KIB + 1)),
        (
            "v=2",
            json!({"type": "send", "content": "y".repeat(64 * KIB)}).to_string(),
        ),
        ("", "z".repeat(2 * 1024 * KIB)),
    ] {
        let mut socket = app.socket(&room, &alice, dialect).await;
        socket.send_text(&frame).await;
        let (code, reason) = socket.closed().await;
        assert_eq!((code, reason.as_str()), (1009, "frame over 64 KiB"));
    }
    let mut binary = app.socket(&room, &alice, "v=2").await;
    binary.send_binary(vec![0xff; 64 * KIB + 1]).await;
    assert_eq!(binary.closed().await.0, 1009);

    assert_eq!(app.event_count().await, events, "nothing of it is stored");
    app.post_message(&alice, &room, "still here").await;
    let next = watcher.next_of("message").await;
    assert_eq!(next["content"], "still here", "nothing of it was delivered");
}

#[tokio::test]
async fn garbage_gets_an_error_frame_or_a_notice_and_the_socket_stays_open() {
    let app = spawn_app().await;
    let (_, _, mut json_socket, mut seed) = lobby_in_both_dialects(&app).await;
    let events = app.event_count().await;

    json_socket.send_binary(vec![0, 159, 146, 150]).await;
    assert_eq!(
        json_socket.next_of("error").await["code"],
        "unsupported_frame"
    );
    json_socket.send_text("{not json").await;
    assert_eq!(json_socket.next_of("error").await["code"], "invalid_frame");
    json_socket.send_json(json!({"type": "dance"})).await;
    assert_eq!(json_socket.next_of("error").await["code"], "invalid_frame");
    json_socket
        .send_json(json!({"type": "send", "content": "   ", "client_msg_id": "e1"}))
        .await;
    let empty = json_socket.next_of("error").await;
    assert_eq!(
        (empty["code"].as_str(), empty["client_msg_id"].as_str()),
        (Some("invalid_input"), Some("e1"))
    );

    seed.send_binary(vec![1, 2, 3]).await;
    let notice = seed.json().await;
    assert_eq!(notice["type"], "system");
    assert!(notice["content"].as_str().unwrap().starts_with("Not sent"));
    seed.send_text(&"long ".repeat(1000)).await;
    let notice = seed.json().await;
    assert_eq!(notice["type"], "system", "{notice}");
    assert_eq!(app.event_count().await, events, "nothing was stored");

    // A JSON-looking text frame is just a message in the seed's dialect.
    seed.send_text(r#"{"type":"send","content":"x"}"#).await;
    let echoed = seed.next_of("message").await;
    assert_eq!(echoed["content"], r#"{"type":"send","content":"x"}"#);
    json_socket
        .send_json(json!({"type": "send", "content": "fine", "client_msg_id": "ok"}))
        .await;
    let ack = json_socket.next_of("ack").await;
    assert_eq!(ack["client_msg_id"], "ok");
}

#[tokio::test]
async fn a_nul_character_in_a_sent_message_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (_, _, mut json_socket, mut seed) = lobby_in_both_dialects(&app).await;
    let events = app.event_count().await;
    let detail = "message must not contain the NUL character (U+0000)";

    assert_refused_in_both_dialects(&mut json_socket, &mut seed, "a \u{0} b", detail).await;
    assert_eq!(app.event_count().await, events, "nothing was stored");
}

#[tokio::test]
async fn a_repeated_client_msg_id_is_acknowledged_with_the_original_and_posted_once() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut socket = app.socket(&room, &alice, "v=2").await;
    for content in ["first", "second"] {
        socket
            .send_json(json!({"type": "send", "content": content, "client_msg_id": "same"}))
            .await;
    }
    let frames = socket
        .frames_until(having(&[("ack", 2), ("message", 1)]))
        .await;
    let acks: Vec<_> = frames.iter().filter(|f| f["type"] == "ack").collect();
    assert_eq!(acks[0], acks[1]);
    app.post_message(&alice, &room, "next").await;
    let next = socket.next_of("message").await;
    assert_eq!(next["content"], "next", "the repeat delivered nothing");
}

#[tokio::test]
async fn sends_beyond_the_rate_are_refused_in_both_dialects_sharing_the_rest_limit() {
    let app = spawn_app_with(&["--send-rate", "1", "--send-burst", "3"]).await;
    let (alice, room, mut json_socket, mut seed) = lobby_in_both_dialects(&app).await;
    assert_eq!(
        app.post_message(&alice, &room, "rest").await.status(),
        StatusCode::CREATED
    );
    for i in 0..2 {
        json_socket
            .send_json(json!({"type": "send", "content": format!("ws {i}"), "client_msg_id": format!("c{i}")}))
            .await;
        assert_eq!(
            json_socket.next_of("ack").await["client_msg_id"],
            format!("c{i}")
        );
    }
    json_socket
        .send_json(json!({"type": "send", "content": "too many", "client_msg_id": "c9"}))
        .await;
    let refused = json_socket.next_of("error").await;
    assert_eq!(refused["code"], "rate_limited");
    assert_eq!(refused["client_msg_id"], "c9");
    assert!(refused["retry_after"].as_u64().unwrap() >= 1);

    seed.send_text("me too").await;
    let notice = seed
        .frames_until(|frame| frame["type"] == "system")
        .await
        .pop()
        .unwrap();
    assert!(
        notice["content"]
            .as_str()
            .unwrap()
            .contains("Too many messages"),
        "{notice}"
    );
    let rest = app.post_message(&alice, &room, "rest again").await;
    assert_eq!(rest.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// A client that never reads, on a socket whose receive window is as small as the kernel allows.
async fn stalled_client(app: &TestApp, room: &str, token: &str) -> Socket {
    let address = app.address.trim_start_matches("http://").parse().unwrap();
    let tcp = TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4 * KIB as u32).unwrap();
    let stream = tcp.connect(address).await.unwrap();
    let url = app.ws_url(room, &format!("token={token}&v=2"));
    let (stream, _) =
        tokio_tungstenite::client_async(&url, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
    Socket::from_stream(stream, &url)
}

#[tokio::test]
async fn a_stalled_reader_is_closed_while_fifty_others_keep_receiving() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut tokens = Vec::new();
    for i in 0..50 {
        let token = app.user(&format!("reader{i}")).await;
        app.join(&token, &room, None).await;
        tokens.push(token);
    }
    let staller_token = app.user("staller").await;
    app.join(&staller_token, &room, None).await;

    let mut readers = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let dialect = if i % 2 == 0 { "v=2" } else { "" };
        readers.push(app.socket(&room, token, dialect).await);
    }
    let staller = stalled_client(&app, &room, &staller_token).await;
    let mut watcher = readers.remove(0);
    watcher
        .frames_until(|frame| presence_change(frame, "joined", "staller"))
        .await;
    // Everyone reads all along, the watcher also telling when the staller is gone.
    let (closed_tx, mut closed) = tokio::sync::watch::channel(false);
    let (last_tx, last) = tokio::sync::watch::channel(i64::MAX);
    let mut reading = Vec::new();
    for mut reader in readers {
        let mut last = last.clone();
        reading.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            while seqs.last() != Some(&*last.borrow_and_update()) {
                let frame = reader.json().await;
                seqs.extend(message_seqs(&[frame]));
            }
            seqs
        }));
    }
    let watching = tokio::spawn(async move {
        let mut seqs = Vec::new();
        loop {
            let frame = watcher.json().await;
            if presence_change(&frame, "left", "staller") {
                closed_tx.send_replace(true);
                return seqs;
            }
            seqs.extend(message_seqs(&[frame]));
        }
    });

    // Big messages (4-byte characters, so 16 KB each) fill the staller's buffers quickly; post
    // until it is closed.
    let body = "\u{1F600}".repeat(3990);
    let first = app.last_seq(&room).await + 1;
    let mut posted = 0;
    while !*closed.borrow_and_update() {
        assert!(posted < 5000, "the staller was never closed");
        let posts =
            (posted..posted + 10).map(|i| app.post_message(&alice, &room, &format!("{i} {body}")));
        for response in futures::future::join_all(posts).await {
            assert_eq!(response.status(), StatusCode::CREATED);
        }
        posted += 10;
    }
    let expected: Vec<i64> = (first..first + posted as i64).collect();
    last_tx.send_replace(expected[expected.len() - 1]);
    for reader in reading {
        assert_eq!(
            reader.await.unwrap(),
            expected,
            "every message, once, in order"
        );
    }
    let watched = watching.await.unwrap();
    assert_eq!(watched, expected[..watched.len()]);
    eprintln!("the staller was closed after {posted} messages");
    drop(staller);
}

#[tokio::test]
async fn a_socket_that_answers_no_ping_is_closed_and_a_quiet_one_that_does_stays_open() {
    let app = spawn_app_with(&["--ws-ping-interval", "300ms", "--ws-idle-timeout", "1s"]).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let mut quiet = app.socket(&room, &alice, "v=2").await;
    let mut deaf = app.socket(&room, &bob, "v=2").await;

    // Reading answers pings (the client library does it); sending nothing is fine. Not reading
    // answers none: the server gives up on that socket.
    quiet
        .frames_until(|frame| presence_change(frame, "left", "bob"))
        .await;
    if let Frame::Close(code, reason) = deaf.frame().await {
        assert_eq!((code, reason.as_str()), (1001, "no answer to ping"));
    }
    assert!(
        quiet.frame_within(Duration::from_secs(2)).await.is_none(),
        "twice the idle timeout without sending a thing, and still open"
    );
    app.post_message(&alice, &room, "still open").await;
    assert_eq!(quiet.next_of("message").await["content"], "still open");
}

#[tokio::test]
async fn sockets_are_closed_with_1012_when_the_server_stops() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut seed = app.socket(&room, &alice, "").await;
    let mut json_socket = app.socket(&room, &alice, "v=2").await;
    app.stop();
    for socket in [&mut seed, &mut json_socket] {
        assert_eq!(socket.closed().await.0, 1012);
    }
}
