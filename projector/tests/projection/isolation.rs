use std::time::Duration;

use crate::helpers::{mixed, System};

#[tokio::test]
async fn two_systems_with_different_prefixes_on_one_broker_do_not_see_each_others_events() {
    let one = System::new().await;
    let other = System::new().await;
    assert_ne!(one.bus.prefix, other.bus.prefix);
    let mut others_feed = bus::node_feed(&other.bus).await.unwrap();
    let _relays = (one.start_relay(), other.start_relay());
    let _projectors = (one.start_projector(), other.start_projector());
    let shape = mixed(300);
    one.seed(&shape).await;
    one.fully_projected().await;
    assert_eq!(
        one.count("SELECT count(*) FROM messages").await,
        shape.messages as i64
    );
    assert_eq!(other.count("SELECT count(*) FROM messages").await, 0);
    assert_eq!(other.count("SELECT count(*) FROM rooms").await, 0);
    let heard = tokio::time::timeout(Duration::from_millis(300), others_feed.recv()).await;
    assert!(heard.is_err(), "the other system's node heard {heard:?}");
}
