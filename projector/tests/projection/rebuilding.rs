use crate::helpers::{changing, mixed, System};

#[tokio::test]
async fn verify_finds_ten_thousand_mixed_events_projected_alike_and_reports_a_manual_edit() {
    let system = System::new().await;
    let _relay = system.start_relay();
    let _projector = system.start_projector();
    let shape = mixed(10_000);
    system.seed(&shape).await;
    system.fully_projected().await;

    let report = projector::verify(&system.pool, |_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(report.events >= 10_000);

    sqlx::query(
        "UPDATE messages SET content = 'edited by hand'
          WHERE (room_id, seq) = (SELECT room_id, seq FROM messages LIMIT 1)",
    )
    .execute(&system.pool)
    .await
    .unwrap();
    let report = projector::verify(&system.pool, |_| {}).await.unwrap();
    assert!(!report.is_clean());
    let differing: Vec<&str> = report
        .tables
        .iter()
        .filter(|table| !table.matches())
        .map(|table| table.table_name.as_str())
        .collect();
    assert_eq!(differing, ["messages"]);
    assert!(report
        .differences
        .iter()
        .any(|d| d.side == "live only" && d.row_text.contains("edited by hand")));
}

#[tokio::test]
async fn a_rebuild_swaps_in_equal_tables_and_a_second_one_at_the_same_time_is_refused() {
    let system = System::new().await;
    let _relay = system.start_relay();
    let _projector = system.start_projector();
    system.seed(&mixed(4000)).await;
    system.fully_projected().await;
    let index_names = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
        )
        .fetch_all(&system.pool)
        .await
        .unwrap()
    };
    let indexes_before = index_names().await;

    let (one, two) = tokio::join!(
        projector::rebuild(&system.pool, |_| {}),
        projector::rebuild(&system.pool, |_| {})
    );
    let refused = [&one, &two]
        .iter()
        .filter(|r| matches!(r, Err(projector::ProjectorError::RebuildRunning)))
        .count();
    assert_eq!(refused, 1, "{one:?} {two:?}");
    assert!(one.is_ok() || two.is_ok());

    assert_eq!(
        index_names().await,
        indexes_before,
        "indexes keep their names"
    );
    let report = projector::verify(&system.pool, |_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
    // Live projection goes on, on the swapped-in tables.
    system.seed(&mixed(200)).await;
    system.fully_projected().await;
}

#[tokio::test]
async fn edits_deletions_reactions_and_replies_rebuild_to_the_live_tables_with_their_counts() {
    let system = System::new().await;
    let _relay = system.start_relay();
    let _projector = system.start_projector();
    let shape = changing(3000);
    system.seed(&shape).await;
    system.fully_projected().await;

    // Each changed message has one reply; a third had their one reaction taken back, and a
    // deletion takes the rest of a deleted message's.
    let replies = system
        .count("SELECT count(*) FROM messages WHERE reply_to IS NOT NULL")
        .await;
    assert_eq!(replies, shape.changed_messages as i64);
    let counted = system
        .count("SELECT sum(reply_count)::bigint FROM messages")
        .await;
    assert_eq!(counted, replies);
    let reacted = system
        .count("SELECT count(*) FROM messages WHERE reacted")
        .await;
    let with_reactions = system
        .count("SELECT count(DISTINCT message_id) FROM message_reactions")
        .await;
    assert_eq!(reacted, with_reactions);
    assert!(reacted > 0 && reacted < shape.changed_messages as i64);

    // A copy built from the log, with the lookups by id made as the changes came, equals the
    // live tables; and so do the tables a rebuild swaps in.
    let report = projector::verify(&system.pool, |_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
    projector::rebuild(&system.pool, |_| {}).await.unwrap();
    assert_eq!(
        system
            .count("SELECT count(*) FROM messages WHERE reacted")
            .await,
        reacted
    );
}
