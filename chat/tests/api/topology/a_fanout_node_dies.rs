//! A fan-out node killed with -9 takes its sockets down mid-conversation. Their clients connect
//! again through the proxy, which sends them to the node still alive, and resume after the last
//! message they saw: nothing missed, nothing twice, in either dialect.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::Topology;
use crate::sockets::{having, message_seqs, Frame, Socket};

/// Messages posted by REST, one every 20 ms or so, while a node dies: the one holding carol's
/// socket, once `KILL_AFTER` of them reached her.
const POSTED: usize = 60;
const KILL_AFTER: usize = 20;

struct Client {
    token: String,
    /// `""` (the seed's) or `"v=2"`.
    dialect: &'static str,
    socket: Socket,
    node: usize,
    /// Every message frame received, in order.
    messages: Vec<Value>,
}

#[tokio::test]
async fn clients_of_a_killed_fanout_node_reconnect_through_the_proxy_and_miss_nothing() {
    let topology = Topology::start().await;
    let app = &topology.app;
    let room_owner = app.user("owner").await;
    let room = app.room(&room_owner, "lobby", None).await;
    let mut clients = Vec::new();
    for (name, dialect) in [("alice", ""), ("bob", ""), ("carol", "v=2")] {
        let token = app.user(name).await;
        app.join(&token, &room, None).await;
        let (socket, node) = topology.socket(&room, &token, dialect).await;
        clients.push(Client {
            token,
            dialect,
            socket,
            node,
            messages: Vec::new(),
        });
    }
    // The proxy put alice and bob on different nodes; carol shares one of them, which dies.
    let doomed = clients[2].node;
    let survivor = 1 - doomed;
    assert_ne!(
        clients[0].node,
        clients[1].node,
        "the proxy sends a socket to the node with fewer; its log:\n{}",
        topology.proxy_log()
    );

    let posting = {
        let posts: Vec<_> = (0..POSTED)
            .map(|n| app.post_message(&room_owner, &room, &format!("m{n}")))
            .collect();
        tokio::spawn(async move {
            let mut seqs = Vec::new();
            for post in posts {
                let response = post.await;
                assert_eq!(response.status(), StatusCode::CREATED);
                seqs.push(
                    response.json::<Value>().await.unwrap()["seq"]
                        .as_i64()
                        .unwrap(),
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seqs
        })
    };
    let carol = &mut clients[2];
    let before_the_kill = carol
        .socket
        .frames_until(having(&[("message", KILL_AFTER)]))
        .await;
    carol.messages.extend(message_frames(before_the_kill));
    topology.fanouts[doomed].kill();

    for client in clients.iter_mut().filter(|client| client.node == doomed) {
        client
            .messages
            .extend(frames_until_dropped(&mut client.socket).await);
        let since = message_seqs(&client.messages).last().copied().unwrap_or(0);
        let query = format!("token={}&{}&since={since}", client.token, client.dialect);
        client.socket = Socket::connect(&app.ws_url(&room, &query)).await;
        let caught_up = client.socket.ready(client.dialect == "v=2").await;
        client.messages.extend(message_frames(caught_up));
        client.node = survivor;
    }
    topology.fanouts[survivor]
        .app
        .metric_becomes("chat_ws_connections", &[], |open| open == 3.0)
        .await;

    // Every message posted reaches everyone once, in the order the room sequenced them.
    let mut posted = posting.await.unwrap();
    posted.sort();
    for client in &mut clients {
        let missing = POSTED - client.messages.len();
        if missing > 0 {
            let rest = client
                .socket
                .frames_until(having(&[("message", missing)]))
                .await;
            client.messages.extend(message_frames(rest));
        }
        assert_eq!(
            message_seqs(&client.messages),
            posted,
            "the {:?} client's messages",
            client.dialect
        );
    }
}

fn message_frames(frames: Vec<Value>) -> impl Iterator<Item = Value> {
    frames
        .into_iter()
        .filter(|frame| frame["type"] == "message")
}

/// The message frames a socket still receives until its connection drops.
async fn frames_until_dropped(socket: &mut Socket) -> Vec<Value> {
    let mut messages = Vec::new();
    loop {
        match socket.frame().await {
            Frame::Json(frame) if frame["type"] == "message" => messages.push(frame),
            Frame::Json(_) => {}
            Frame::Close(..) | Frame::Ended => return messages,
        }
    }
}
