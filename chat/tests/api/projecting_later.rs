use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{spawn_role_with, start_workers};

#[tokio::test]
async fn with_only_the_command_api_running_posts_are_stored_and_a_later_projector_projects_them_once(
) {
    let wait = Duration::from_secs(1);
    let app = spawn_role_with("command-api", &["--projection-wait", "1s"]).await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    for n in 0..50 {
        let started = Instant::now();
        let posted = app
            .post_message(&alice, &room, &format!("message {n}"))
            .await;
        assert_eq!(posted.status(), StatusCode::CREATED);
        assert!(
            started.elapsed() < wait,
            "a post does not wait for the projection"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.count("SELECT count(*) FROM messages").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM rooms").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);

    let _projector = start_workers(&app.database_url, "projector", &[]).await;
    app.eventually("SELECT count(*) FROM messages", 50).await;
    app.eventually(
        "SELECT last_seq FROM projection_checkpoints WHERE aggregate_type = 'Room'",
        52,
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM users").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM room_members").await, 1);
    assert_eq!(
        app.count("SELECT count(DISTINCT content) FROM messages")
            .await,
        50
    );
}
