use std::time::Duration;

use bus::NodeFeed;
use tokio_util::sync::CancellationToken;

use crate::helpers::{mixed, System};

#[tokio::test]
async fn the_relay_publishes_the_outbox_in_order_and_empties_it_once_confirmed() {
    let system = System::new().await;
    let mut feed = bus::node_feed(&system.bus).await.unwrap();
    let history = system.seed(&mixed(500)).await;
    let room_events = history
        .iter()
        .filter(|e| e.aggregate_type == "Room")
        .count();
    let _relay = system.start_relay();
    let mut positions = Vec::new();
    while positions.len() < room_events {
        let Ok(Some(NodeFeed::Event(event))) =
            tokio::time::timeout(Duration::from_secs(20), feed.recv()).await
        else {
            panic!("only {} of {room_events} events arrived", positions.len())
        };
        positions.push(event.position);
    }
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "in global order"
    );
    system.eventually("SELECT count(*) FROM outbox", 0).await;
}

#[tokio::test]
async fn a_waiting_relay_takes_over_when_the_active_one_stops() {
    let system = System::new().await;
    let first = CancellationToken::new();
    let _active = system.start_relay_until(first.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _waiting = system.start_relay();
    system.seed(&mixed(100)).await;
    system.eventually("SELECT count(*) FROM outbox", 0).await;
    first.cancel();
    system.seed(&mixed(100)).await;
    system.eventually("SELECT count(*) FROM outbox", 0).await;
}
