//! The gateway scales out: every node consumes the bus once, and a node cut off from the broker
//! for a while still gives its clients every message, once.

use std::time::Duration;

use serde_json::json;
use testkit::{amqp_url_through, TcpProxy};

use crate::helpers::{spawn_app, spawn_app_on};
use crate::sockets::{having, message_contents, message_seqs, presence_change};

#[tokio::test]
async fn clients_on_one_node_receive_what_is_sent_through_another() {
    let a = spawn_app().await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    let room = a.room(&alice, "lobby", None).await;
    a.join(&bob, &room, None).await;
    let mut on_a = a.socket(&room, &alice, "v=2").await;
    let mut on_b = b.socket(&room, &bob, "").await;

    on_b.send_text("from b").await;
    on_a.send_json(json!({"type": "send", "content": "from a", "client_msg_id": "1"}))
        .await;
    b.post_message(&bob, &room, "rest on b").await;

    let seen_a = on_a.frames_until(having(&[("message", 3)])).await;
    let seen_b = on_b.frames_until(having(&[("message", 3)])).await;
    assert_eq!(message_seqs(&seen_a), message_seqs(&seen_b));
    let mut contents = message_contents(&seen_a);
    contents.sort();
    assert_eq!(contents, ["from a", "from b", "rest on b"]);
}

#[tokio::test]
async fn a_node_cut_off_from_the_broker_for_seconds_still_delivers_every_message_once() {
    let a = spawn_app().await;
    let proxy = TcpProxy::start("127.0.0.1:5672").await;
    let b = spawn_app_on(&a.database_url, &["--amqp-url", &amqp_url_through(&proxy)]).await;
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    let room = a.room(&alice, "lobby", None).await;
    a.join(&bob, &room, None).await;
    let mut json_client = b.socket(&room, &bob, "v=2").await;
    let mut seed_client = b.socket(&room, &alice, "").await;
    let first = a.last_seq(&room).await + 1;

    let total = 300;
    let posting = {
        let posts: Vec<_> = (0..total)
            .map(|i| a.post_message(&alice, &room, &format!("m{i}")))
            .collect();
        tokio::spawn(async move {
            for post in posts {
                assert!(post.await.status().is_success());
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.restore();
    posting.await.unwrap();

    let expected: Vec<i64> = (first..first + total as i64).collect();
    for socket in [&mut json_client, &mut seed_client] {
        let frames = socket.frames_until(having(&[("message", total)])).await;
        assert_eq!(message_seqs(&frames), expected);
    }
    // And nothing after them: the next message is the next one posted.
    a.post_message(&alice, &room, "after").await;
    for socket in [&mut json_client, &mut seed_client] {
        assert_eq!(socket.next_of("message").await["content"], "after");
    }
}

#[tokio::test]
async fn presence_typing_and_notices_reach_the_rooms_sockets_on_other_nodes() {
    let a = spawn_app().await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    let room = a.room(&alice, "lobby", None).await;
    a.join(&bob, &room, None).await;
    let mut watcher = a.socket(&room, &alice, "v=2").await;
    let mut seed = a.socket(&room, &alice, "").await;

    let mut bobs = b.open_socket(&room, &bob, "v=2").await;
    let everyone = bobs.next_of("presence").await;
    let names: Vec<_> = everyone["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob"], "node B knows who is on node A");
    watcher
        .frames_until(|frame| presence_change(frame, "joined", "bob"))
        .await;
    seed.frames_until(|frame| frame["content"] == "bob joined")
        .await;

    bobs.send_json(json!({"type": "typing"})).await;
    assert_eq!(watcher.next_of("typing").await["username"], "bob");

    bobs.close().await;
    watcher
        .frames_until(|frame| presence_change(frame, "left", "bob"))
        .await;
    seed.frames_until(|frame| frame["content"] == "bob left")
        .await;
}

#[tokio::test]
async fn the_people_of_a_node_that_stops_leave_presence_on_the_others() {
    let a = spawn_app().await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    let room = a.room(&alice, "lobby", None).await;
    a.join(&bob, &room, None).await;
    let mut watcher = a.socket(&room, &alice, "v=2").await;
    let _bobs = b.socket(&room, &bob, "v=2").await;
    watcher
        .frames_until(|frame| presence_change(frame, "joined", "bob"))
        .await;
    b.stop();
    watcher
        .frames_until(|frame| presence_change(frame, "left", "bob"))
        .await;
}
