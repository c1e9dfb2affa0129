//! A client that sends fast and reads everything is served, not cut off: its sends commit while
//! its socket goes on receiving the room, they are committed and acknowledged in the order sent,
//! and a burst beyond what the server takes at once waits, unread, rather than being dropped.

use serde_json::{json, Value};

use crate::helpers::spawn_app;
use crate::sockets::{message_seqs, Socket};

/// Messages each fast sender posts: together, well past the 1,024 frames a socket may lag.
const PER_SENDER: usize = 1500;
/// Messages a fast sender keeps sent but not yet back on its own socket.
const WINDOW: usize = 32;

/// What a fast sender saw: its own messages as they came back, and its acks (v2).
struct Sent {
    back: Vec<String>,
    acks: Vec<Value>,
}

/// Posts `PER_SENDER` messages named `name 0`, `name 1`, …, never more than `WINDOW` of them
/// unreceived, reading everything the room sends meanwhile.
async fn send_fast(mut socket: Socket, name: &'static str, json_dialect: bool) -> Sent {
    let mut sent = 0;
    let mut back = Vec::new();
    let mut acks = Vec::new();
    let own = format!("{name} ");
    while back.len() < PER_SENDER || (json_dialect && acks.len() < PER_SENDER) {
        if sent < PER_SENDER && sent - back.len() < WINDOW {
            let content = format!("{name} {sent}");
            if json_dialect {
                let id = format!("{name}-{sent}");
                socket
                    .send_json(json!({"type": "send", "content": content, "client_msg_id": id}))
                    .await;
            } else {
                socket.send_text(&content).await;
            }
            sent += 1;
            continue;
        }
        let frame = socket.json().await;
        match frame["type"].as_str() {
            Some("message") if frame["content"].as_str().unwrap().starts_with(&own) => {
                back.push(frame["content"].as_str().unwrap().to_owned())
            }
            Some("ack") => acks.push(frame),
            _ => {}
        }
    }
    Sent { back, acks }
}

/// Reads until `count` messages came, answering their frames.
async fn read_messages(mut socket: Socket, count: usize) -> Vec<Value> {
    let mut messages = Vec::new();
    while messages.len() < count {
        let frame = socket.json().await;
        if frame["type"] == "message" {
            messages.push(frame);
        }
    }
    messages
}

/// The contents of `messages` from one sender, in the order they came.
fn from_sender(messages: &[Value], name: &str) -> Vec<String> {
    let own = format!("{name} ");
    messages
        .iter()
        .filter_map(|message| message["content"].as_str())
        .filter(|content| content.starts_with(&own))
        .map(str::to_owned)
        .collect()
}

fn in_order(name: &str) -> Vec<String> {
    (0..PER_SENDER).map(|i| format!("{name} {i}")).collect()
}

#[tokio::test]
async fn two_fast_senders_in_both_dialects_are_never_cut_off_and_nothing_is_lost_or_reordered() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let mut readers = Vec::new();
    for (i, dialect) in ["v=2", "", "v=2"].into_iter().enumerate() {
        let reader = app.user(&format!("reader{i}")).await;
        app.join(&reader, &room, None).await;
        let socket = app.socket(&room, &reader, dialect).await;
        readers.push(tokio::spawn(read_messages(socket, 2 * PER_SENDER)));
    }
    let first = app.last_seq(&room).await + 1;
    let json_sender = app.socket(&room, &alice, "v=2").await;
    let seed_sender = app.socket(&room, &bob, "").await;
    let json_sending = tokio::spawn(send_fast(json_sender, "alice", true));
    let seed_sending = tokio::spawn(send_fast(seed_sender, "bob", false));

    let json_sent = json_sending.await.unwrap();
    let seed_sent = seed_sending.await.unwrap();
    assert_eq!(json_sent.back, in_order("alice"));
    assert_eq!(seed_sent.back, in_order("bob"));
    let acked: Vec<_> = json_sent
        .acks
        .iter()
        .map(|ack| ack["client_msg_id"].as_str().unwrap().to_owned())
        .collect();
    let sent_ids: Vec<_> = (0..PER_SENDER).map(|i| format!("alice-{i}")).collect();
    assert_eq!(acked, sent_ids, "acknowledged in the order sent");
    let ack_seqs: Vec<_> = json_sent
        .acks
        .iter()
        .map(|ack| ack["seq"].as_i64())
        .collect();
    assert!(
        ack_seqs.windows(2).all(|pair| pair[0] < pair[1]),
        "committed in order"
    );

    let every: Vec<i64> = (first..first + 2 * PER_SENDER as i64).collect();
    for reader in readers {
        let messages = reader.await.unwrap();
        assert_eq!(message_seqs(&messages), every, "once each, in order");
        assert_eq!(from_sender(&messages, "alice"), in_order("alice"));
        assert_eq!(from_sender(&messages, "bob"), in_order("bob"));
    }
}

#[tokio::test]
async fn a_burst_past_what_the_server_takes_at_once_waits_and_is_all_acknowledged_in_order() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut socket = app.socket(&room, &alice, "v=2").await;
    let burst = 4 * fanout::MAX_SENDS_IN_FLIGHT;
    for i in 0..burst {
        socket
            .send_json(json!({"type": "send", "content": format!("burst {i}"), "client_msg_id": format!("b{i}")}))
            .await;
    }
    socket.send_json(json!({"type": "ping"})).await;
    let mut acks = Vec::new();
    loop {
        let frame = socket.json().await;
        match frame["type"].as_str() {
            Some("ack") => acks.push(frame),
            Some("pong") => break,
            _ => {}
        }
    }
    let acked: Vec<_> = acks
        .iter()
        .map(|ack| ack["client_msg_id"].as_str().unwrap().to_owned())
        .collect();
    let sent: Vec<_> = (0..burst).map(|i| format!("b{i}")).collect();
    assert_eq!(
        acked, sent,
        "every send acknowledged, in order, before the pong"
    );
    let first = acks[0]["seq"].as_i64().unwrap();
    let seqs: Vec<_> = acks
        .iter()
        .map(|ack| ack["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (first..first + burst as i64).collect::<Vec<_>>());
}
