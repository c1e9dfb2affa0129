use std::time::Duration;

use bus::relay::RelaySettings;
use bus::NodeFeed;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{mixed, room_story, System};

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
async fn rows_the_limit_in_flight_held_back_are_published_as_confirms_make_room() {
    let system = System::new().await;
    // Stored before the relay starts and never polled for again: no notification or poll comes
    // for them, only the confirms of what went before.
    system.seed(&mixed(300)).await;
    let settings = RelaySettings {
        batch_size: 10,
        max_in_flight: 20,
        poll_interval: Duration::from_secs(3600),
        ..RelaySettings::default()
    };
    let _relay = system.start_relay_with(settings);
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

#[tokio::test]
async fn a_relay_whose_lock_connection_is_terminated_stops_publishing_at_once() {
    let system = System::new().await;
    let mut feed = bus::node_feed(&system.bus).await.unwrap();
    let _relay = system.start_relay();
    system.write(&room_story(Uuid::new_v4())).await;
    for _ in 0..3 {
        let arrived = tokio::time::timeout(Duration::from_secs(20), feed.recv()).await;
        assert!(matches!(arrived, Ok(Some(NodeFeed::Event(_)))));
    }
    let holder: i32 = sqlx::query_scalar(
        "SELECT pid FROM pg_locks
          WHERE locktype = 'advisory' AND granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&system.pool)
    .await
    .unwrap();

    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(holder)
        .execute(&system.pool)
        .await
        .unwrap();
    // Another relay takes the lock the moment it is free, as a waiting one does.
    let mut successor = system.pool.acquire().await.unwrap();
    while !sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
        .bind(bus::relay::RELAY_LOCK)
        .fetch_one(&mut *successor)
        .await
        .unwrap()
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    system.write(&room_story(Uuid::new_v4())).await;

    // The outbox notification wakes the old relay at once; without the lock it publishes nothing.
    let published = tokio::time::timeout(Duration::from_millis(1500), feed.recv()).await;
    assert!(
        published.is_err(),
        "published without the lock: {published:?}"
    );
    assert_eq!(system.count("SELECT count(*) FROM outbox").await, 3);
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(bus::relay::RELAY_LOCK)
        .execute(&mut *successor)
        .await
        .unwrap();
    system.eventually("SELECT count(*) FROM outbox", 0).await;
}

#[tokio::test]
async fn the_relay_vacuums_the_outbox_it_drains() {
    let system = System::new().await;
    let vacuums = "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'outbox'";
    let before = system.count(vacuums).await;
    let settings = RelaySettings {
        vacuum_after: 50,
        ..RelaySettings::default()
    };
    let _relay = system.start_relay_with(settings);
    system.seed(&mixed(300)).await;
    system.eventually("SELECT count(*) FROM outbox", 0).await;
    // The statistics reach the view within a second of the vacuum's end.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while system.count(vacuums).await == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay never vacuumed the outbox"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
