use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::processes::Deployment;

/// What an orchestrator allows between SIGTERM and SIGKILL.
const STOP_WITHIN: Duration = Duration::from_secs(10);

#[tokio::test]
async fn sigterm_while_clients_post_loses_no_acknowledged_message_and_closes_sockets_with_1012() {
    let deployment = Deployment::new().await;
    let mut chat = deployment.start("all", &[]).await;
    let app = &chat.app;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let mut sockets = Vec::new();
    for _ in 0..2 {
        sockets.push(app.socket(&room, &alice, "v=2").await);
    }
    let posters: Vec<_> = (0..8)
        .map(|poster| {
            let client = app.client.clone();
            let url = app.url(&format!("/rooms/{room}/messages"));
            let alice = alice.clone();
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for n in 0.. {
                    let content = format!("poster {poster} message {n}");
                    let sent = client
                        .post(&url)
                        .bearer_auth(&alice)
                        .json(&json!({ "content": content }))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == StatusCode::CREATED => {
                            acknowledged.push(content)
                        }
                        // Refused, cut, or answered otherwise: not acknowledged, so either way.
                        _ => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    while app
        .count("SELECT count(*) FROM events WHERE event_type = 'MessagePosted'")
        .await
        < 100
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    chat.terminate();
    let (status, took) = chat.exited(STOP_WITHIN).await;

    assert!(status.success(), "exit status {status}");
    assert!(took < STOP_WITHIN, "stopped in {took:?}");
    for socket in &mut sockets {
        assert_eq!(socket.closed().await.0, 1012);
    }
    let mut acknowledged = Vec::new();
    for poster in posters {
        acknowledged.extend(poster.await.unwrap());
    }
    assert!(acknowledged.len() >= 100);
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT payload->'MessagePosted'->>'content' FROM events
          WHERE event_type = 'MessagePosted'",
    )
    .fetch_all(&deployment.pool)
    .await
    .unwrap();
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for content in &stored {
        *copies.entry(content.as_str()).or_default() += 1;
    }
    for content in &acknowledged {
        assert_eq!(copies.get(content.as_str()), Some(&1), "{content}");
    }
}
