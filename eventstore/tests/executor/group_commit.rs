use std::collections::HashSet;
use std::future::Future;

use domain::{Room, RoomError};
use eventstore::{CommandExecutor, CommandMetadata, ExecuteError};
use futures::future::join_all;

use crate::helpers::*;

#[tokio::test]
async fn concurrent_posts_to_one_room_share_commits_and_get_consecutive_sequences() {
    let (_, pool) = fresh_database().await;
    let (rooms, _) = executor(&pool, snapshot_every(100));
    let room_id = create_room(&rooms).await;
    let batches_before = rooms.stats().batches;

    let posts =
        (0..200).map(|n| rooms.execute(&room_id, post("alice", &format!("m{n}"), None), &METADATA));
    let answered: Vec<Posted> = join_all(posts).await;

    let mut sequences_answered: Vec<usize> = answered
        .iter()
        .flat_map(posted_messages)
        .map(|(sequence, _)| sequence)
        .collect();
    sequences_answered.sort_unstable();
    assert_eq!(sequences_answered, (3..=202).collect::<Vec<_>>());
    assert_eq!(
        sequences(&pool, &room_id).await,
        (1..=202).collect::<Vec<_>>()
    );
    let batches = rooms.stats().batches - batches_before;
    assert!(batches < 200, "200 posts took {batches} commits");
}

#[tokio::test]
async fn a_refused_command_in_a_batch_fails_alone() {
    let (_, pool) = fresh_database().await;
    let (rooms, gate) = executor(&pool, snapshot_every(100));
    let room_id = create_room(&rooms).await;
    let batches_before = rooms.stats().batches;

    gate.close().await;
    let (joined, (first, stranger, last)) = tokio::join!(
        rooms.execute(&room_id, join("carol"), &METADATA),
        behind_a_held_batch(&rooms, &gate, batches_before, 3, async {
            tokio::join!(
                rooms.execute(&room_id, post("alice", "first", None), &METADATA),
                rooms.execute(&room_id, post("mallory", "let me in", None), &METADATA),
                rooms.execute(&room_id, post("alice", "last", None), &METADATA),
            )
        }),
    );

    joined.expect("carol joins");
    assert_eq!(posted_messages(&first)[0].0, 4);
    assert!(matches!(
        stranger,
        Err(ExecuteError::Domain(RoomError::NotAMember))
    ));
    assert_eq!(posted_messages(&last)[0].0, 5);
    assert_eq!(
        rooms.stats().batches - batches_before,
        2,
        "the three posts shared one batch"
    );
    assert_eq!(sequences(&pool, &room_id).await, vec![1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn two_sends_with_one_client_msg_id_in_one_batch_post_once() {
    let (_, pool) = fresh_database().await;
    let (rooms, gate) = executor(&pool, snapshot_every(100));
    let room_id = create_room(&rooms).await;
    let batches_before = rooms.stats().batches;
    let observe_earlier = |room: &Room| {
        let alice = actor("alice").user_id;
        room.recent_send(alice, "c-1")
            .map(|send| (send.seq, send.message_id))
    };

    gate.close().await;
    let (joined, (send, resend)) = tokio::join!(
        rooms.execute(&room_id, join("carol"), &METADATA),
        behind_a_held_batch(&rooms, &gate, batches_before, 2, async {
            tokio::join!(
                rooms.execute_with(
                    &room_id,
                    post("alice", "hi", Some("c-1")),
                    &METADATA,
                    observe_earlier
                ),
                rooms.execute_with(
                    &room_id,
                    post("alice", "changed", Some("c-1")),
                    &METADATA,
                    observe_earlier
                ),
            )
        }),
    );

    joined.expect("carol joins");
    let (events, seen_by_send) = send.expect("send");
    let (no_events, seen_by_resend) = resend.expect("resend");
    assert!(no_events.is_empty(), "the resend posted nothing");
    assert_eq!(seen_by_send, Some((4, posted_messages(&Ok(events))[0].1)));
    assert_eq!(seen_by_resend, seen_by_send, "both answer the same message");
    assert_eq!(
        rooms.stats().batches - batches_before,
        2,
        "the sends shared one batch"
    );
    assert_eq!(sequences(&pool, &room_id).await, vec![1, 2, 3, 4]);
}

#[tokio::test]
async fn a_send_the_store_refuses_as_a_repeat_fails_alone_and_the_rest_of_its_batch_is_stored_at_once(
) {
    let (_, pool) = fresh_database().await;
    let (rooms, gate) = executor(&pool, snapshot_every(100));
    let room_id = create_room(&rooms).await;
    let alice = actor("alice").user_id;
    // Sent a while ago, so long that the room no longer remembers it; the store does.
    sqlx::query(
        "INSERT INTO sent_messages (room_id, sender_id, client_msg_id, seq) VALUES ($1, $2, 'old', 2)",
    )
    .bind(&room_id)
    .bind(alice.to_string())
    .execute(&pool)
    .await
    .unwrap();
    let sent_with = |id: &str| CommandMetadata {
        client_msg_id: Some(id.to_owned()),
        ..CommandMetadata::by(alice, None)
    };
    let (new, old) = (sent_with("new"), sent_with("old"));
    let batches_before = rooms.stats().batches;
    let commits_before = rooms.stats().commits;

    gate.close().await;
    let (joined, (first, repeat, last)) = tokio::join!(
        rooms.execute(&room_id, join("carol"), &METADATA),
        behind_a_held_batch(&rooms, &gate, batches_before, 3, async {
            tokio::join!(
                rooms.execute(&room_id, post("alice", "first", Some("new")), &new),
                rooms.execute(&room_id, post("alice", "again", Some("old")), &old),
                rooms.execute(&room_id, post("alice", "last", None), &METADATA),
            )
        }),
    );

    joined.expect("carol joins");
    assert!(
        matches!(repeat, Err(ExecuteError::Refused(_))),
        "{repeat:?}"
    );
    assert_eq!(posted_messages(&first)[0].0, 4);
    assert_eq!(posted_messages(&last)[0].0, 5);
    assert_eq!(
        rooms.stats().batches - batches_before,
        2,
        "the three sends shared a batch"
    );
    assert_eq!(
        rooms.stats().commits - commits_before,
        3,
        "carol's join, the three sends refused together, the other two stored together"
    );
    assert_eq!(sequences(&pool, &room_id).await, vec![1, 2, 3, 4, 5]);
    let remembered: Vec<(String, i64)> =
        sqlx::query_as("SELECT client_msg_id, seq FROM sent_messages ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(remembered, [("old".to_owned(), 2), ("new".to_owned(), 4)]);
    let after = rooms
        .execute(&room_id, post("alice", "after", None), &METADATA)
        .await;
    assert_eq!(
        posted_messages(&after)[0].0,
        6,
        "the room holds what was stored"
    );
}

/// Runs `count` commands once the batch started after `batches_before` is stuck at the closed
/// gate, and opens the gate once they have all queued behind it, so they form the next batch.
async fn behind_a_held_batch<T>(
    rooms: &CommandExecutor<Room>,
    gate: &Gate,
    batches_before: u64,
    count: u64,
    commands: impl Future<Output = T>,
) -> T {
    until_batches(rooms, batches_before + 1).await;
    let (answers, ()) = tokio::join!(commands, async {
        until_waiting(rooms, count).await;
        gate.open().await;
    });
    answers
}

#[tokio::test]
async fn two_executors_posting_to_one_room_lose_and_duplicate_nothing() {
    let (_, pool) = fresh_database().await;
    let (first, _) = executor(&pool, snapshot_every(100));
    let (second, _) = executor(&pool, snapshot_every(100));
    let room_id = create_room(&first).await;

    let posts = (0..400).map(|n| {
        let rooms = if n % 2 == 0 { &first } else { &second };
        rooms.execute(
            &room_id,
            post("alice", &format!("message {n}"), None),
            &METADATA,
        )
    });
    let answered: Vec<Posted> = join_all(posts).await;

    let mut sequences_answered = HashSet::new();
    for posted in &answered {
        for (sequence, _) in posted_messages(posted) {
            assert!(
                sequences_answered.insert(sequence),
                "{sequence} answered twice"
            );
        }
    }
    assert_eq!(sequences_answered.len(), 400);
    assert_eq!(
        sequences(&pool, &room_id).await,
        (1..=402).collect::<Vec<_>>()
    );
    let bodies: HashSet<String> = sqlx::query_scalar(
        "SELECT payload->'MessagePosted'->>'content' FROM events WHERE event_type = 'MessagePosted'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(bodies.len(), 400, "every message stored once");
}

#[tokio::test]
async fn posts_to_different_rooms_share_commits() {
    let (_, pool) = fresh_database().await;
    let (rooms, _) = executor(&pool, snapshot_every(100));
    let mut room_ids = Vec::new();
    for n in 0..20 {
        room_ids.push(create_room_named(&rooms, &format!("room {n}")).await);
    }
    let before = rooms.stats();

    let posts = room_ids
        .iter()
        .map(|room_id| rooms.execute(room_id, post("alice", "hi", None), &METADATA));
    for posted in join_all(posts).await {
        assert_eq!(posted_messages(&posted)[0].0, 3);
    }

    let after = rooms.stats();
    assert_eq!(after.batches - before.batches, 20, "one batch per room");
    assert!(
        after.commits - before.commits < 20,
        "20 rooms took {} commits",
        after.commits - before.commits
    );
}

#[tokio::test]
async fn a_room_that_lost_a_race_in_a_shared_commit_fails_none_of_the_others() {
    let (_, pool) = fresh_database().await;
    let (here, _) = executor(&pool, snapshot_every(100));
    let (elsewhere, _) = executor(&pool, snapshot_every(100));
    let mut room_ids = Vec::new();
    for n in 0..10 {
        room_ids.push(create_room_named(&here, &format!("room {n}")).await);
    }
    post_many(&elsewhere, &room_ids[0], 1, 1).await;

    let posts = room_ids
        .iter()
        .map(|room_id| here.execute(room_id, post("alice", "hi", None), &METADATA));
    let answered: Vec<Posted> = join_all(posts).await;

    assert_eq!(
        posted_messages(&answered[0])[0].0,
        4,
        "the outdated room retried"
    );
    for posted in &answered[1..] {
        assert_eq!(posted_messages(posted)[0].0, 3);
    }
    assert!(here.stats().conflicts >= 1);
    assert_eq!(sequences(&pool, &room_ids[0]).await, vec![1, 2, 3, 4]);
}

#[tokio::test]
async fn a_shared_commit_queues_each_event_and_remembers_each_id_sent() {
    let (_, pool) = fresh_database().await;
    let (rooms, _) = executor(&pool, snapshot_every(100));
    let room_ids = [
        create_room_named(&rooms, "first").await,
        create_room_named(&rooms, "second").await,
    ];
    let alice = actor("alice").user_id;
    let metadata: Vec<CommandMetadata> = (0..100)
        .map(|n| CommandMetadata {
            client_msg_id: Some(format!("id-{n}")),
            ..CommandMetadata::by(alice, None)
        })
        .collect();
    let batches_before = rooms.stats().batches;

    let posts = metadata.iter().enumerate().map(|(n, metadata)| {
        let id = metadata.client_msg_id.as_deref();
        rooms.execute(
            &room_ids[n % 2],
            post("alice", &format!("m{n}"), id),
            metadata,
        )
    });
    let answered: Vec<Posted> = join_all(posts).await;

    assert!(
        rooms.stats().batches - batches_before < 100,
        "commits were shared"
    );
    let unqueued = testkit::count(
        &pool,
        "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.position = e.position)",
    )
    .await;
    assert_eq!(unqueued, 0, "every event waits in the outbox");
    for (n, answer) in answered.iter().enumerate() {
        let (sequence, _) = posted_messages(answer)[0];
        let remembered: i64 = sqlx::query_scalar(
            "SELECT seq FROM sent_messages WHERE room_id = $1 AND sender_id = $2 AND client_msg_id = $3",
        )
        .bind(&room_ids[n % 2])
        .bind(alice.to_string())
        .bind(format!("id-{n}"))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(remembered, sequence as i64);
    }
}
