//! The projector's statements stay index probes whatever plan PostgreSQL keeps for them.

use std::time::Duration;

use testkit::seed::{self, Shape};

use crate::helpers::System;

const MESSAGES: usize = 3000;

/// Index entries read so far from each index of `messages`, as the statistics show them.
async fn entries_read(system: &System, index: &str) -> i64 {
    system
        .count(&format!(
            "SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = '{index}'"
        ))
        .await
}

/// Waits until the statistics count `rows` inserted into `table`: they reach the views within
/// seconds of each transaction.
async fn statistics_count(system: &System, table: &str, rows: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while system
        .count(&format!(
            "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = '{table}'"
        ))
        .await
        < rows
    {
        assert!(tokio::time::Instant::now() < deadline, "no statistics");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A system whose every connection, from the first, keeps the generic plan of each prepared
/// statement: the plan made once per connection, here while every table is empty.
async fn keeping_the_plans_made_while_empty() -> System {
    let mut system = System::new().await;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&system.pool)
        .await
        .unwrap();
    sqlx::query(&format!(
        r#"ALTER DATABASE "{database}" SET plan_cache_mode = force_generic_plan"#
    ))
    .execute(&system.pool)
    .await
    .unwrap();
    system.pool = eventstore::connect(
        &format!("postgres://postgres@127.0.0.1:5432/{database}?sslmode=disable"),
        8,
    )
    .await
    .unwrap();
    system
}

#[tokio::test]
async fn a_hot_room_is_projected_by_probes_even_with_the_plans_made_while_it_was_empty() {
    let system = keeping_the_plans_made_while_empty().await;
    let _relay = system.start_relay();
    let _projector = system.start_projector();

    let history = seed::history(&Shape {
        users: 2,
        rooms: 1,
        members_per_room: 1,
        messages: MESSAGES,
        changed_messages: 0,
        rooms_with_leavers: 0,
    });
    seed::write(&system.pool, &history, 100).await.unwrap();
    system.fully_projected().await;

    statistics_count(&system, "messages", MESSAGES as i64).await;
    // Search's index of rooms is never read by the projector, and each message costs one
    // probe of the author index for its check and one for its author's count, not a walk
    // through the room (a scan of the room per message read millions of entries).
    assert_eq!(entries_read(&system, "messages_by_room").await, 0);
    let by_author = entries_read(&system, "messages_by_author").await;
    assert!(
        by_author <= 3 * MESSAGES as i64,
        "{by_author} entries of messages_by_author read for {MESSAGES} messages"
    );
}

#[tokio::test]
async fn checkpoints_are_looked_up_by_probes_even_with_the_plans_made_while_there_were_none() {
    let system = keeping_the_plans_made_while_empty().await;
    let _relay = system.start_relay();
    let _projector = system.start_projector();

    let history = seed::history(&Shape {
        users: 20,
        rooms: 400,
        members_per_room: 1,
        messages: 2000,
        changed_messages: 0,
        rooms_with_leavers: 0,
    });
    // Small commits, so that the projector applies many batches. The wait counts messages, the
    // last events of each room, and reads no checkpoint itself.
    seed::write(&system.pool, &history, 20).await.unwrap();
    system
        .eventually("SELECT count(*) FROM messages", 2000)
        .await;

    let checkpoints = system
        .count("SELECT count(*) FROM projection_checkpoints")
        .await;
    statistics_count(&system, "projection_checkpoints", checkpoints).await;
    // A batch looks up the checkpoints of its own aggregates; a scan per batch read them all
    // (the plan made while the table was empty joined it by a hash of all its rows).
    let scanned = system
        .count(
            "SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'projection_checkpoints'",
        )
        .await;
    assert!(
        scanned <= checkpoints,
        "{scanned} checkpoint rows scanned; there are {checkpoints}"
    );
}

#[tokio::test]
async fn a_rebuild_numbers_each_message_among_its_authors_without_a_walk_through_its_room() {
    // More than a rebuild's batch of events: the later batches number after rows in the copy.
    const MESSAGES: usize = 25_000;
    let system = System::new().await;
    // 300 people take turns: each one's previous message is 300 messages back.
    let history = seed::history(&Shape {
        users: 301,
        rooms: 1,
        members_per_room: 300,
        messages: MESSAGES,
        changed_messages: 0,
        rooms_with_leavers: 0,
    });
    seed::write(&system.pool, &history, 5000).await.unwrap();

    projector::rebuild(&system.pool, |_| {}).await.unwrap();

    // The rebuilt tables, with their statistics, are the live ones now.
    statistics_count(&system, "messages", MESSAGES as i64).await;
    // Looked up in the copy, an author's last ordinal stepped back through the room's primary
    // key to their previous message: 300 entries a message here.
    let by_key = entries_read(&system, "messages_pkey").await;
    assert!(
        by_key <= MESSAGES as i64,
        "{by_key} entries of the primary key read for {MESSAGES} messages"
    );
    let numbered_in_order = system
        .count(
            "SELECT count(*) FROM (
                 SELECT ordinal, author_ordinal,
                        row_number() OVER (PARTITION BY room_id ORDER BY seq) AS in_room,
                        row_number() OVER (PARTITION BY room_id, user_id ORDER BY seq) AS by_author
                   FROM messages) m
              WHERE ordinal = in_room AND author_ordinal = by_author",
        )
        .await;
    assert_eq!(numbered_in_order, MESSAGES as i64);
}
