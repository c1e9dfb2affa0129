//! The gateway scales out: every node consumes the bus once, and a node cut off from the broker
//! for a while still gives its clients every message, once.

use std::time::Duration;

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{spawn_app, spawn_app_on};
use crate::sockets::{having, message_contents, message_seqs};

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

/// A TCP proxy in front of RabbitMQ that can cut every connection through it, and refuse new
/// ones, until restored.
struct BrokerProxy {
    port: u16,
    cut: watch::Sender<bool>,
}

impl BrokerProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, _) = watch::channel(false);
        let cuts = cut.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let mut cut = cuts.subscribe();
                if *cut.borrow_and_update() {
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut upstream) = TcpStream::connect("127.0.0.1:5672").await else {
                        return;
                    };
                    let mut client = client;
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = cut.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Self { port, cut }
    }

    fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    fn cut(&self) {
        self.cut.send_replace(true);
    }

    fn restore(&self) {
        self.cut.send_replace(false);
    }
}

#[tokio::test]
async fn a_node_cut_off_from_the_broker_for_seconds_still_delivers_every_message_once() {
    let a = spawn_app().await;
    let proxy = BrokerProxy::start().await;
    let b = spawn_app_on(&a.database_url, &["--amqp-url", &proxy.url()]).await;
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
