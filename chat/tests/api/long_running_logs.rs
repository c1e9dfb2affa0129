use std::time::Duration;

use reqwest::StatusCode;

use crate::processes::Deployment;

/// Well above any line of the log, and far below what per-batch span fields grew lines to.
const LONGEST_LINE: usize = 1024;

#[tokio::test]
async fn every_log_line_stays_short_however_many_batches_a_role_relays_and_projects() {
    longest_line_after_many_batches("human").await;
}

#[tokio::test]
async fn every_json_log_line_stays_short_however_many_batches_a_role_relays_and_projects() {
    longest_line_after_many_batches("json").await;
}

async fn longest_line_after_many_batches(format: &str) {
    let deployment = Deployment::new().await;
    let settings = [
        ("CHAT_LOG_FORMAT", format),
        ("RUST_LOG", "info,sqlx=warn,bus=debug,projector=debug"),
    ];
    let mut chat = deployment.start("all", &settings).await;
    let app = &chat.app;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    // One at a time, so each is a batch of its own for the relay and the projector.
    for n in 0..300 {
        let response = app
            .post_message(&alice, &room, &format!("message {n}"))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    app.eventually("SELECT count(*) FROM messages", 300).await;
    chat.terminate();
    chat.exited(Duration::from_secs(10)).await;

    let log = chat.log().await;
    let batches = log
        .iter()
        .filter(|line| line.contains("relayed a batch"))
        .count();
    assert!(batches >= 100, "{batches} batches relayed");
    let longest = log.iter().map(String::len).max().unwrap_or_default();
    assert!(
        longest < LONGEST_LINE,
        "a line of {longest} bytes: {:?}",
        log.iter().max_by_key(|line| line.len())
    );
}
