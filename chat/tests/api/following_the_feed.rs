//! An integrator follows `GET /events`: from a position, as JSON pages or a stream, resumed with
//! `Last-Event-ID` while events are written without a gap or a repeat, scoped to the rooms it is
//! a member of as of each event; bad input is refused.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

impl TestApp {
    /// One JSON page of the feed.
    pub async fn feed_page(&self, token: &str, query: &str) -> Value {
        self.get_json(&format!("/events{query}"), Some(token)).await
    }
}

fn positions(page: &Value) -> Vec<i64> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["position"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn pages_start_after_a_position_and_next_after_moves_on_even_when_nothing_is_visible() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    for n in 0..5 {
        app.post_message(&alice, &room, &format!("m{n}")).await;
    }
    let all = app.feed_page(&alice, "?limit=1000").await;
    let seen = positions(&all);
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "in order");
    let types: Vec<_> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types.first().unwrap(), "UserRegistered", "its own account");
    assert_eq!(types.iter().filter(|t| *t == "MessagePosted").count(), 5);
    assert!(!all.to_string().contains("$2b$"), "no password hash");

    let from_third = app
        .feed_page(&alice, &format!("?after={}&limit=2", seen[2]))
        .await;
    assert_eq!(positions(&from_third), seen[3..5]);
    assert_eq!(from_third["next_after"], seen[4]);

    let bob = app.user("bob").await;
    let bobs = app
        .feed_page(&bob, &format!("?after={}", seen.last().unwrap()))
        .await;
    assert_eq!(
        bobs["events"].as_array().unwrap().len(),
        1,
        "only his registration"
    );
    assert!(
        bobs["next_after"].as_i64().unwrap() > *seen.last().unwrap(),
        "moved on"
    );
    let clamped = app.feed_page(&alice, "?limit=0").await;
    assert_eq!(
        clamped["events"].as_array().unwrap().len(),
        1,
        "limit 0 reads as 1"
    );
}

#[tokio::test]
async fn bad_after_limit_last_event_id_and_a_token_in_the_url_are_refused() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for query in [
        "?after=-1",
        "?after=x",
        "?after=9223372036854775808",
        "?limit=x",
        "?after=1.5",
    ] {
        let response = app.get(&format!("/events{query}"), Some(&alice)).await;
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    }
    let max = app.feed_page(&alice, "?after=9223372036854775807").await;
    assert_eq!(max["events"], json!([]));
    let in_url = app.get(&format!("/events?token={alice}"), None).await;
    assert_eq!(
        in_url.status(),
        StatusCode::UNAUTHORIZED,
        "no header, no caller"
    );
    let both = app
        .get(&format!("/events?token={alice}"), Some(&alice))
        .await;
    assert_error(both, StatusCode::BAD_REQUEST, None).await;
    for id in ["-1", "x", "9223372036854775808"] {
        let response = app
            .client
            .get(app.url("/events"))
            .bearer_auth(&alice)
            .header("accept", "text/event-stream")
            .header("last-event-id", id)
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, None).await;
    }
}

#[tokio::test]
async fn a_stream_resumed_with_last_event_id_while_messages_are_written_misses_and_repeats_nothing()
{
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let writer = {
        let (app_url, token, room) = (app.address.clone(), alice.clone(), room.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let sends = (0..200).map(|n| {
                client
                    .post(format!("{app_url}/rooms/{room}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"content": format!("m{n}")}))
                    .send()
            });
            for send in futures::future::join_all(sends).await {
                assert!(send.unwrap().status().is_success());
            }
        })
    };
    // The header wins over `after`, which EventSource repeats from the original URL.
    let mut received: Vec<i64> = Vec::new();
    let mut last = None;
    while received.len() < 200 + 3 {
        let mut stream = app.follow(&alice, "?after=0", last).await;
        for _ in 0..40 {
            let Some(event) = stream.next_within(Duration::from_secs(10)).await else {
                break;
            };
            assert_eq!(event.data["position"], event.id);
            received.push(event.id);
            last = Some(event.id);
        }
    }
    writer.await.unwrap();
    let page = app.feed_page(&alice, "?limit=1000").await;
    assert_eq!(received, positions(&page), "every event once, in order");
}

#[tokio::test]
async fn a_position_is_served_only_once_every_transaction_that_could_still_commit_below_it_has() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let start = positions(&app.feed_page(&alice, "?limit=1000").await)
        .last()
        .copied()
        .unwrap();
    let mut stream = app.follow(&alice, &format!("?after={start}"), None).await;
    // A writer draws its position and holds its transaction open, as a slow commit does.
    let mut slow = app.pool.begin().await.unwrap();
    let held: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Room', $1, 1000, 'MessagePosted', '1', '{}', '{}') RETURNING position",
    )
    .bind(&room)
    .fetch_one(&mut *slow)
    .await
    .unwrap();
    let posted: Value = app
        .post_message(&alice, &room, "after it")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        stream
            .next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "held back"
    );
    let page = app.feed_page(&alice, &format!("?after={start}")).await;
    assert_eq!(page["events"], json!([]), "pages too");
    assert!(page["next_after"].as_i64().unwrap() < held);
    slow.rollback().await.unwrap();
    let event = stream.next().await;
    assert!(event.id > held, "the rolled back position never appears");
    assert_eq!(
        event.data["payload"]["MessagePosted"]["message_id"],
        posted["id"]
    );
}

#[tokio::test]
async fn a_private_rooms_events_stop_when_the_bot_leaves_it() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "secret", Some("pw")).await;
    let bot = app.bot(&alice, "watcher").await;
    let token = bot["token"].as_str().unwrap();
    app.post_message(&alice, &room, "before the join").await;
    let mut stream = app.follow(token, "", None).await;
    assert_eq!(stream.next().await.event, "BotRegistered");
    let join = app
        .post_json(
            &format!("/rooms/{room}/join"),
            Some(token),
            &json!({"password": "pw"}),
        )
        .await;
    assert_eq!(join.status(), StatusCode::OK);
    assert_eq!(stream.next().await.event, "MemberJoined");
    app.post_message(&alice, &room, "while in").await;
    let seen = stream.next().await;
    assert_eq!(seen.data["payload"]["MessagePosted"]["content"], "while in");
    let left = app
        .post_json(&format!("/rooms/{room}/leave"), Some(token), &json!({}))
        .await;
    assert_eq!(left.status(), StatusCode::OK);
    assert_eq!(stream.next().await.event, "MemberLeft");
    app.post_message(&alice, &room, "after the leave").await;
    assert!(stream.next_within(Duration::from_secs(1)).await.is_none());
    let replayed = app.feed_page(token, "?limit=1000").await.to_string();
    assert!(replayed.contains("while in"));
    assert!(!replayed.contains("before the join") && !replayed.contains("after the leave"));
}
