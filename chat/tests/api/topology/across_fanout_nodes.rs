//! Two people whose sockets the proxy put on different fan-out nodes talk as if they shared one:
//! what either sends on their socket reaches the other, and so does every post, whichever
//! command API accepted it.

use reqwest::StatusCode;
use serde_json::json;

use super::Topology;
use crate::sockets::{having, message_contents, message_seqs};

/// Posts to make at most while waiting for the proxy to have used both command APIs (it picks
/// between idle ones at random, so a few suffice).
const POSTS_AT_MOST: usize = 100;

#[tokio::test]
async fn sockets_on_different_fanout_nodes_hear_each_other_and_every_post_through_either_command_api(
) {
    let topology = Topology::start().await;
    let app = &topology.app;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let (mut seed, alice_node) = topology.socket(&room, &alice, "").await;
    let (mut json, bob_node) = topology.socket(&room, &bob, "v=2").await;
    assert_ne!(
        alice_node,
        bob_node,
        "the proxy sends a socket to the node with fewer; its log:\n{}",
        topology.proxy_log()
    );

    // From alice's node to bob's, then back.
    seed.send_text("from alice's node").await;
    assert_eq!(
        json.next_of("message").await["content"],
        "from alice's node"
    );
    json.send_json(json!({"type": "send", "content": "from bob's node", "client_msg_id": "b1"}))
        .await;
    let answered = json
        .frames_until(having(&[("ack", 1), ("message", 1)]))
        .await;
    assert_eq!(message_contents(&answered), ["from bob's node"]);
    let seen = seed.frames_until(having(&[("message", 2)])).await;
    assert_eq!(
        message_contents(&seen),
        ["from alice's node", "from bob's node"]
    );

    // Posts through the proxy until each command API has accepted some.
    let mut posted = Vec::new();
    while topology.posts_accepted().await.contains(&0.0) {
        assert!(
            posted.len() < POSTS_AT_MOST,
            "one command API took every post: {:?}",
            topology.posts_accepted().await
        );
        let content = format!("post {}", posted.len());
        let response = app.post_message(&bob, &room, &content).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        posted.push(content);
    }

    // Both sockets get every post, once, in one order.
    let on_alices = seed
        .frames_until(having(&[("message", posted.len())]))
        .await;
    let on_bobs = json
        .frames_until(having(&[("message", posted.len())]))
        .await;
    assert_eq!(message_contents(&on_alices), posted);
    assert_eq!(message_contents(&on_bobs), posted);
    let seqs = message_seqs(&on_alices);
    assert_eq!(message_seqs(&on_bobs), seqs);
    assert!(
        seqs.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "{seqs:?}"
    );
}
