use std::time::Duration;

use bus::NodeFeed;
use testkit::TcpProxy;
use uuid::Uuid;

use crate::helpers::{room_story, user_envelope, System};

async fn next(feed: &mut tokio::sync::mpsc::Receiver<NodeFeed>) -> NodeFeed {
    tokio::time::timeout(Duration::from_secs(20), feed.recv())
        .await
        .expect("the feed answered in time")
        .expect("the feed is open")
}

#[tokio::test]
async fn a_node_hears_room_events_only_and_is_told_when_it_reconnected() {
    let proxy = TcpProxy::start("127.0.0.1:5672").await;
    let system = System::new().await;
    let through_proxy = bus::BusConfig {
        amqp_url: testkit::amqp_url_through(&proxy),
        ..system.bus.clone()
    };
    let mut feed = bus::node_feed(&through_proxy).await.unwrap();
    let room = room_story(Uuid::new_v4());
    system
        .publish(&[user_envelope("alice"), room[0].envelope(1)])
        .await;
    let NodeFeed::Event(event) = next(&mut feed).await else {
        panic!("an event first")
    };
    assert_eq!(
        event.aggregate_type, "Room",
        "user events are not routed to nodes"
    );

    proxy.cut();
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.restore();
    assert!(matches!(next(&mut feed).await, NodeFeed::Reconnected));
    system.publish(&[room[1].envelope(2)]).await;
    let NodeFeed::Event(event) = next(&mut feed).await else {
        panic!("events flow again")
    };
    assert_eq!(event.sequence, 2);
}

#[tokio::test]
async fn a_node_hears_a_burst_of_many_times_its_prefetch_whole_and_in_order() {
    let system = System::new().await;
    let mut feed = bus::node_feed(&system.bus).await.unwrap();
    let room = room_story(Uuid::new_v4());
    // A node acknowledges what has arrived in batches: were one left out, the broker would stop
    // at the node's prefetch of 1,024 events.
    let burst: Vec<_> = (1..=5_000)
        .map(|position| room[1].envelope(position))
        .collect();
    system.publish(&burst).await;
    for position in 1..=5_000 {
        let NodeFeed::Event(event) = next(&mut feed).await else {
            panic!("no reconnection during the burst")
        };
        assert_eq!(event.position, position, "in the order published");
    }
}

#[tokio::test]
async fn nodes_are_back_within_about_a_second_of_the_broker_returning_from_a_long_outage() {
    let proxy = TcpProxy::start("127.0.0.1:5672").await;
    let system = System::new().await;
    let through_proxy = bus::BusConfig {
        amqp_url: testkit::amqp_url_through(&proxy),
        ..system.bus.clone()
    };
    // Several nodes, since each waits a random part of its pause.
    let mut feeds = Vec::new();
    for _ in 0..3 {
        feeds.push(bus::node_feed(&through_proxy).await.unwrap());
    }

    // Long enough for the pauses between attempts to have grown as far as they go.
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(10)).await;
    proxy.restore();
    let returned = tokio::time::Instant::now();
    for feed in &mut feeds {
        assert!(matches!(next(feed).await, NodeFeed::Reconnected));
    }
    let all_back_after = returned.elapsed();
    assert!(
        all_back_after < Duration::from_secs(2),
        "all back {all_back_after:?} after the broker returned"
    );
}
