//! Read positions beyond one request: committed when the process stops, rebuilt from the event
//! log, and set for everyone who was in a room before read positions existed.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_on};
use crate::reading_positions::{eventually_read, mark_read, my_room, post, receipts};
use crate::rebuilding_and_verifying::chat;

#[tokio::test]
async fn a_move_held_to_be_coalesced_is_committed_when_the_process_stops() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let (_, first) = post(&app, &alice, &room, "one").await;
    let (_, second) = post(&app, &alice, &room, "two").await;
    mark_read(&app, &bob, &room, first).await;
    mark_read(&app, &bob, &room, second).await;
    let furthest = "SELECT max((payload -> 'ReadPositionMoved' ->> 'seq')::bigint) FROM events
                     WHERE aggregate_type = 'ReadPositions'";
    assert_eq!(app.count(furthest).await, first, "the second move is held");
    app.stop();
    // Well before its interval would have ended.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(600);
    while app.count(furthest).await != second {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the held move was not flushed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_rebuild_reproduces_every_position_and_verify_covers_them() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let (_, one) = post(&app, &alice, &room, "one").await;
    post(&app, &alice, &room, "two").await;
    post(&app, &bob, &room, "three").await;
    mark_read(&app, &bob, &room, one).await;
    eventually_read(&app, &bob, &room, (one, 1)).await;
    let before = (
        my_room(&app, &bob, &room).await,
        my_room(&app, &alice, &room).await,
        receipts(&app, Some(&alice), &room).await,
    );
    chat(&app, &["verify"]).await.unwrap();
    chat(&app, &["rebuild"]).await.unwrap();
    let after = (
        my_room(&app, &bob, &room).await,
        my_room(&app, &alice, &room).await,
        receipts(&app, Some(&alice), &room).await,
    );
    assert_eq!(before, after);
    chat(&app, &["verify"]).await.unwrap();
    sqlx::query("UPDATE read_positions SET seq = seq + 1")
        .execute(&app.pool)
        .await
        .unwrap();
    let error = chat(&app, &["verify"]).await.unwrap_err();
    assert!(error.to_string().contains("differ"), "{error}");
}

/// What migration 0084 added, taken away again: the database as the previous version left it.
const BEFORE_READ_POSITIONS: &str = "
DROP INDEX messages_by_author;
DROP INDEX messages_deleted;
DROP TABLE read_positions;
DROP TABLE read_baselines;
ALTER TABLE room_members DROP COLUMN read_floor;
ALTER TABLE rooms DROP COLUMN message_count;
ALTER TABLE messages DROP COLUMN ordinal, DROP COLUMN author_ordinal;
DELETE FROM _sqlx_migrations WHERE version = 84;";

#[tokio::test]
async fn members_from_before_the_upgrade_have_read_up_to_where_their_rooms_were() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    for n in 0..3 {
        post(&app, &alice, &room, &format!("old {n}")).await;
    }
    let last = app.last_seq(&room).await;
    app.eventually(
        &format!("SELECT last_seq FROM rooms WHERE id = '{room}'"),
        last,
    )
    .await;
    eventually_read(&app, &bob, &room, (last - 3, 3)).await;
    app.stop();
    sqlx::raw_sql(BEFORE_READ_POSITIONS)
        .execute(&app.pool)
        .await
        .unwrap();

    let upgraded = spawn_app_on(&app.database_url, &[]).await;
    for token in [&alice, &bob] {
        eventually_read(&upgraded, token, &room, (last, 0)).await;
    }
    let (_, new) = post(&upgraded, &alice, &room, "new").await;
    eventually_read(&upgraded, &bob, &room, (last, 1)).await;
    chat(&upgraded, &["verify"]).await.unwrap();
    chat(&upgraded, &["rebuild"]).await.unwrap();
    eventually_read(&upgraded, &bob, &room, (last, 1)).await;
    let joined_later = upgraded.user("carol").await;
    upgraded.join(&joined_later, &room, None).await;
    let carol: Value = my_room(&upgraded, &joined_later, &room).await;
    assert!(carol["last_read_seq"].as_i64().unwrap() > new);
    assert_eq!(carol["unread"], 0);
}
