use crate::helpers::*;

#[tokio::test]
async fn loading_a_room_with_10000_events_reads_only_the_events_after_its_snapshot() {
    let (_, pool) = fresh_database().await;
    let (rooms, _) = executor(&pool, snapshot_every(100));
    let room_id = create_room(&rooms).await;
    post_many(&rooms, &room_id, 9_998, 500).await;
    snapshot_where(&pool, &room_id, |sequence| sequence > 10_000 - 100).await;

    let (restarted, _) = executor(&pool, snapshot_every(100));
    let room = restarted.load(&room_id).await.unwrap();

    assert_eq!(room.last_seq(), 10_000);
    let read = restarted.stats().events_read;
    assert!(read <= 100, "read {read} events after the snapshot");
}

#[tokio::test]
async fn a_corrupt_snapshot_is_ignored_and_rewritten() {
    let (_, pool) = fresh_database().await;
    let (rooms, _) = executor(&pool, snapshot_every(100));
    let room_id = create_room(&rooms).await;
    post_many(&rooms, &room_id, 248, 1).await;
    snapshot_where(&pool, &room_id, |sequence| sequence == 200).await;
    sqlx::query("UPDATE snapshots SET payload = '{\"members\": 7}', last_sequence = 200")
        .execute(&pool)
        .await
        .unwrap();

    let (restarted, _) = executor(&pool, snapshot_every(100));
    let posted = restarted
        .execute(&room_id, post("alice", "still here", None), &METADATA)
        .await;

    assert_eq!(posted_messages(&posted)[0].0, 251);
    assert_eq!(restarted.stats().events_read, 250, "a full load");
    snapshot_where(&pool, &room_id, |sequence| sequence == 250).await;
    let (again, _) = executor(&pool, snapshot_every(100));
    assert_eq!(again.load(&room_id).await.unwrap().last_seq(), 251);
    assert_eq!(
        again.stats().events_read,
        1,
        "the rewritten snapshot serves"
    );
}

#[tokio::test]
async fn a_snapshot_claiming_events_the_stream_lacks_is_ignored_and_replaced() {
    let (_, pool) = fresh_database().await;
    let (rooms, _) = executor(&pool, snapshot_every(10));
    let room_id = create_room(&rooms).await;
    post_many(&rooms, &room_id, 18, 1).await;
    snapshot_where(&pool, &room_id, |sequence| sequence == 20).await;
    sqlx::query("UPDATE snapshots SET last_sequence = 99999")
        .execute(&pool)
        .await
        .unwrap();

    let (restarted, _) = executor(&pool, snapshot_every(10));
    let posted = restarted
        .execute(&room_id, post("alice", "no gap", None), &METADATA)
        .await;

    assert_eq!(posted_messages(&posted)[0].0, 21);
    assert_eq!(
        sequences(&pool, &room_id).await,
        (1..=21).collect::<Vec<_>>()
    );
    snapshot_where(&pool, &room_id, |sequence| sequence <= 21).await;
}

#[tokio::test]
async fn a_stale_snapshot_is_caught_up_and_moved_forward() {
    let (_, pool) = fresh_database().await;
    let (rooms, _) = executor(&pool, snapshot_every(10));
    let room_id = create_room(&rooms).await;
    post_many(&rooms, &room_id, 8, 1).await;
    snapshot_where(&pool, &room_id, |sequence| sequence == 10).await;
    // Written by an executor that takes no snapshots, so the stored one falls 40 events behind.
    let (no_snapshots, _) = executor(&pool, snapshot_every(0));
    post_many(&no_snapshots, &room_id, 40, 1).await;

    let (restarted, _) = executor(&pool, snapshot_every(10));
    assert_eq!(restarted.load(&room_id).await.unwrap().last_seq(), 50);

    assert_eq!(restarted.stats().events_read, 40);
    snapshot_where(&pool, &room_id, |sequence| sequence == 50).await;
}
