use std::time::Duration;

use chat::Cli;
use clap::Parser;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use testkit::seed::{self, Shape};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

/// Runs `chat <command>` against the app's database, as an operator would.
pub async fn chat(app: &TestApp, command: &[&str]) -> anyhow::Result<()> {
    let mut args = vec!["chat"];
    args.extend_from_slice(command);
    args.extend_from_slice(&["--database-url", &app.database_url]);
    chat::run(Cli::parse_from(args)).await
}

#[tokio::test]
async fn a_rebuild_while_500_messages_arrive_keeps_every_message_once_and_verify_stays_clean() {
    let app = spawn_app().await;
    // History enough for the rebuild to take a while.
    let history = seed::history(&Shape {
        users: 50,
        rooms: 20,
        members_per_room: 5,
        messages: 6000,
        changed_messages: 0,
        rooms_with_leavers: 5,
    });
    seed::write(&app.pool, &history, 1000).await.unwrap();
    let alice = app.user("alice").await;
    let mut rooms = Vec::new();
    for n in 0..5 {
        rooms.push(app.room(&alice, &format!("room {n}"), None).await);
    }
    let posts = futures::stream::iter(0..500)
        .map(|n| app.post_message(&alice, &rooms[n % rooms.len()], &format!("live {n}")))
        .buffer_unordered(8)
        .map(|response| response.status())
        .collect::<Vec<_>>();
    let rebuild = async {
        while app.count("SELECT count(*) FROM events WHERE event_type = 'MessagePosted' AND payload::text LIKE '%live %'").await < 50 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        chat(&app, &["rebuild"]).await
    };
    let (statuses, rebuilt) = tokio::join!(posts, rebuild);
    rebuilt.unwrap();
    assert!(statuses.iter().all(|status| *status == StatusCode::CREATED));
    app.eventually(
        "SELECT count(*) FROM messages WHERE content LIKE 'live %'",
        500,
    )
    .await;
    assert_eq!(
        app.count("SELECT count(DISTINCT content) FROM messages WHERE content LIKE 'live %'")
            .await,
        500
    );
    chat(&app, &["verify"]).await.unwrap();
    // Reads and writes go on after the swap.
    let response = app
        .post_json(
            "/rooms/",
            Some(&alice),
            &json!({"name": "after the rebuild", "is_private": false}),
        )
        .await;
    assert!(response.headers().get("x-projection-pending").is_none());
}

#[tokio::test]
async fn chat_verify_fails_after_a_read_row_was_edited_by_hand() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    for n in 0..3 {
        app.post_message(&alice, &room, &format!("message {n}"))
            .await;
    }
    app.eventually("SELECT count(*) FROM messages", 3).await;
    chat(&app, &["verify"]).await.unwrap();
    sqlx::query("UPDATE messages SET content = 'edited by hand' WHERE seq = 3")
        .execute(&app.pool)
        .await
        .unwrap();
    let error = chat(&app, &["verify"]).await.unwrap_err();
    assert!(error.to_string().contains("differ"), "{error}");
}

#[tokio::test]
async fn chat_dlq_lists_an_event_the_projector_could_not_apply_and_retries_it() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ('Room', $1, 1, 'RoomArchived', '1', '{\"RoomArchived\": {}}', '{}')",
    )
    .bind(Uuid::new_v4().to_string())
    .execute(&app.pool)
    .await
    .unwrap();
    let settings = Cli::parse_from(["chat", "all", "--database-url", &app.database_url]).settings;
    let bus = settings.bus().unwrap();
    let dead_letters = || async { bus::dead_letters(&bus, 1000).await.unwrap().letters.len() };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while dead_letters().await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing dead-lettered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    chat(&app, &["dlq", "list"]).await.unwrap();
    assert_eq!(dead_letters().await, 1, "listing leaves them queued");
    chat(&app, &["dlq", "retry"]).await.unwrap();
    // Still unknown to this projector, so back it comes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while dead_letters().await != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the retried event is lost"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
