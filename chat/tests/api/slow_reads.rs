use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use sqlx::Connection;
use tokio::time::Instant;

use crate::helpers::{assert_error, spawn_app_with};

#[tokio::test]
async fn sixteen_reads_stuck_on_the_history_do_not_make_posts_fail_and_end_as_unavailable() {
    let app = spawn_app_with(&["--query-timeout", "2s"]).await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    // Every read of the history now waits, as behind a scan of a huge room.
    let mut blocker = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    let mut hold = blocker.begin().await.unwrap();
    sqlx::query("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *hold)
        .await
        .unwrap();
    let reads: Vec<_> = (0..16)
        .map(|_| {
            let request = app.client.get(app.url(&format!("/rooms/{room}/messages")));
            tokio::spawn(async move { request.send().await.expect("request") })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    for n in 0..20 {
        let started = Instant::now();
        let response = app
            .post_message(&alice, &room, &format!("while reads hang {n}"))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    for read in join_all(reads).await {
        assert_error(read.unwrap(), StatusCode::SERVICE_UNAVAILABLE, None).await;
    }
    hold.rollback().await.unwrap();
    app.eventually("SELECT count(*) FROM messages", 20).await;
}
