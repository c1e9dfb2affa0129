use domain::RoomError;
use eventstore::{ExecuteError, ExecutorOptions};
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn a_busy_room_is_decided_in_memory_without_reloading() {
    let (_, pool) = fresh_database().await;
    let (rooms, _) = executor(&pool, snapshot_every(0));
    let room_id = create_room(&rooms).await;
    post_many(&rooms, &room_id, 20, 1).await;
    let before = rooms.stats();

    post_many(&rooms, &room_id, 20, 1).await;

    let after = rooms.stats();
    assert_eq!(after.loads, before.loads, "no reload");
    assert_eq!(after.events_read, before.events_read);
    assert_eq!(
        sequences(&pool, &room_id).await,
        (1..=42).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_copy_another_process_outdated_is_dropped_and_the_command_retried() {
    let (_, pool) = fresh_database().await;
    let (here, _) = executor(&pool, snapshot_every(100));
    let (elsewhere, _) = executor(&pool, snapshot_every(100));
    let room_id = create_room(&here).await;
    post_many(&here, &room_id, 3, 1).await;
    elsewhere
        .execute(&room_id, join("bob"), &METADATA)
        .await
        .unwrap();

    let posted = here
        .execute(&room_id, post("bob", "hello from bob", None), &METADATA)
        .await;

    assert_eq!(posted_messages(&posted)[0].0, 7);
    assert_eq!(here.stats().conflicts, 1);
}

#[tokio::test]
async fn an_answer_without_events_is_never_decided_on_an_outdated_copy() {
    let (_, pool) = fresh_database().await;
    let (here, _) = executor(&pool, snapshot_every(100));
    let (elsewhere, _) = executor(&pool, snapshot_every(100));
    let room_id = create_room(&here).await;
    here.execute(&room_id, join("bob"), &METADATA)
        .await
        .unwrap();
    elsewhere
        .execute(&room_id, leave("bob"), &METADATA)
        .await
        .unwrap();

    // Here's copy still lists bob, so it would answer "already joined" and record nothing.
    let joined = here
        .execute(&room_id, join("bob"), &METADATA)
        .await
        .unwrap();

    assert_eq!(joined.len(), 1, "bob joins again");
    assert_eq!(joined[0].sequence, 5);
}

#[tokio::test]
async fn load_sees_what_another_process_wrote_since_the_cached_copy() {
    let (_, pool) = fresh_database().await;
    let (here, _) = executor(&pool, snapshot_every(100));
    let (elsewhere, _) = executor(&pool, snapshot_every(100));
    let room_id = create_room(&here).await;
    assert_eq!(here.load(&room_id).await.unwrap().last_seq(), 2);

    post_many(&elsewhere, &room_id, 5, 1).await;

    assert_eq!(here.load(&room_id).await.unwrap().last_seq(), 7);
    assert!(here.stats().cache_hits >= 1);
}

#[tokio::test]
async fn ids_of_rooms_that_do_not_exist_never_evict_a_cached_one() {
    let (_, pool) = fresh_database().await;
    let only_one = ExecutorOptions {
        snapshot_every: 0,
        cache_capacity: 1,
    };
    let (rooms, _) = executor(&pool, only_one);
    let room_id = create_room(&rooms).await;
    for bogus in 0..5 {
        let bogus = Uuid::from_u128(bogus).to_string();
        let refused = rooms
            .execute(&bogus, post("alice", "anyone there?", None), &METADATA)
            .await;
        assert!(matches!(
            refused,
            Err(ExecuteError::Domain(RoomError::NotFound))
        ));
        assert_eq!(rooms.load(&bogus).await.unwrap().last_seq(), 0);
    }
    let loads_before = rooms.stats().loads;

    post_many(&rooms, &room_id, 1, 1).await;

    assert_eq!(
        rooms.stats().loads,
        loads_before,
        "the room was still cached"
    );
}
