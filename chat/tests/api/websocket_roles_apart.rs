//! The production layout: every role a process of its own (`chat command-api`, `chat query-api`,
//! `chat projector`, `chat fanout`), as `deploy/` runs them. A socket receives every message
//! committed after its handshake completed, whichever process committed it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::processes::Deployment;
use crate::sockets::message_contents;

/// Enough rounds that a race between a socket's opening and a post shows in every run.
const ROUNDS: usize = 20;

#[tokio::test]
async fn a_socket_on_a_fanout_node_receives_what_the_command_api_commits_right_after_its_handshake()
{
    let deployment = Deployment::new().await;
    let command_api = deployment.start("command-api", &[]).await;
    let query_api = deployment.start("query-api", &[]).await;
    let _projector = deployment.start("projector", &[]).await;
    let fanout = deployment.start("fanout", &[]).await;
    let alice = command_api.app.user("alice").await;
    let room = command_api.app.room(&alice, "lobby", None).await;

    let mut last_seq = 0;
    for round in 0..ROUNDS {
        for (name, dialect) in [("v1", ""), ("v2", "v=2")] {
            let mut socket = fanout.app.open_socket(&room, &alice, dialect).await;
            let content = format!("round {round} on {name}");
            let posted = command_api.app.post_message(&alice, &room, &content).await;
            assert_eq!(posted.status(), StatusCode::CREATED);
            last_seq = posted.json::<Value>().await.unwrap()["seq"]
                .as_i64()
                .unwrap();
            let frame = socket.next_of("message").await;
            assert_eq!(frame["content"], content.as_str());
            assert_eq!(frame["seq"], last_seq);
            socket.close().await;
        }
    }

    // The query API reads what the projector, another process, made of it all.
    let history = query_api
        .app
        .get_json(
            &format!("/rooms/{room}/messages?limit=200&min_seq={last_seq}"),
            Some(&alice),
        )
        .await;
    assert_eq!(history.as_array().unwrap().len(), 2 * ROUNDS);
}

#[tokio::test]
async fn a_socket_on_one_fanout_node_receives_what_a_socket_on_another_sends_right_after_its_handshake(
) {
    let deployment = Deployment::new().await;
    let command_api = deployment.start("command-api", &[]).await;
    let _projector = deployment.start("projector", &[]).await;
    let sender_node = deployment.start("fanout", &[]).await;
    let receiver_node = deployment.start("fanout", &[]).await;
    let alice = command_api.app.user("alice").await;
    let bob = command_api.app.user("bob").await;
    let room = command_api.app.room(&alice, "lobby", None).await;
    command_api.app.join(&bob, &room, None).await;
    let mut sender = sender_node.app.socket(&room, &alice, "v=2").await;

    let mut received = Vec::new();
    let mut sent = Vec::new();
    for round in 0..ROUNDS {
        let mut receiver = receiver_node.app.open_socket(&room, &bob, "").await;
        let content = format!("round {round}");
        sender
            .send_json(
                json!({"type": "send", "content": content, "client_msg_id": round.to_string()}),
            )
            .await;
        let ack = sender.next_of("ack").await;
        assert_eq!(ack["client_msg_id"], Value::from(round.to_string()));
        received.extend(message_contents(&[receiver.next_of("message").await]));
        sent.push(content);
        receiver.close().await;
    }
    assert_eq!(received, sent);
}

#[tokio::test]
async fn a_projector_killed_mid_stream_is_replaced_and_the_read_tables_miss_nothing() {
    let deployment = Deployment::new().await;
    let command_api = deployment.start("command-api", &[]).await;
    let projector = deployment.start("projector", &[]).await;
    let alice = command_api.app.user("alice").await;
    let room = command_api.app.room(&alice, "lobby", None).await;
    let posts: Vec<_> = (0..200)
        .map(|n| {
            command_api
                .app
                .post_message(&alice, &room, &format!("m{n}"))
        })
        .collect();
    let posting = tokio::spawn(futures::future::join_all(posts));
    command_api
        .app
        .eventually("SELECT least(count(*), 50) FROM messages", 50)
        .await;

    projector.kill();
    let statuses = posting.await.unwrap();
    assert!(statuses
        .iter()
        .all(|post| post.status() == StatusCode::CREATED));
    let _replacement = deployment.start("projector", &[]).await;

    command_api
        .app
        .eventually("SELECT count(DISTINCT content) FROM messages", 200)
        .await;
    command_api
        .app
        .eventually("SELECT count(*) FROM messages", 200)
        .await;
}
