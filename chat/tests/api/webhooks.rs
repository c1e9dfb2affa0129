//! A room's owner adds a webhook; a receiver gets every event of the room, signed, in order,
//! and the ones it refused on retry; what never succeeds is dead-lettered; a URL of a private
//! host is refused unless allowed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with, TestApp};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

/// A local endpoint that records every request and answers `answer(attempt of this id)`.
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

pub async fn receiver(answer: fn(usize) -> u16) -> Receiver {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let log = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let log = Arc::clone(&log);
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let request = Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    body,
                };
                let mut log = log.lock().unwrap();
                let attempt = log.iter().filter(|r| r.id == request.id).count() + 1;
                log.push(request);
                AxumStatus::from_u16(answer(attempt)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver { url, received }
}

pub const FAST_RETRIES: [&str; 6] = [
    "--webhook-retry-first",
    "100ms",
    "--webhook-retry-max",
    "200ms",
    "--projector-catch-up-interval",
    "1s",
];

pub async fn create_webhook(app: &TestApp, token: &str, room_id: &str, body: &Value) -> Value {
    let response = app
        .post_json(&format!("/rooms/{room_id}/webhooks"), Some(token), body)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

pub fn key_of(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix("whsec_").expect("the whsec_ prefix");
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64")
}

pub async fn deliveries(
    app: &TestApp,
    token: &str,
    room_id: &str,
    webhook_id: &str,
    query: &str,
) -> Vec<Value> {
    let page = app
        .get_json(
            &format!("/rooms/{room_id}/webhooks/{webhook_id}/deliveries{query}"),
            Some(token),
        )
        .await;
    page["deliveries"].as_array().unwrap().clone()
}

/// Waits up to 30 s for `done` to hold of the deliveries.
pub async fn wait_for(
    app: &TestApp,
    token: &str,
    room_id: &str,
    webhook_id: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    // Generous: a retried delivery waits out its backoff, and in a full test run two projector
    // processes share the machine with every other suite.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let listed = deliveries(app, token, room_id, webhook_id, "").await;
        if done(&listed) {
            return listed;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the deliveries never got there: {listed:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_receiver_verifies_every_signature_and_gets_each_event_in_order_refused_ones_on_retry() {
    let mut flags = vec!["--webhook-allow", "127.0.0.1"];
    flags.extend_from_slice(&FAST_RETRIES);
    let app = spawn_app_with(&flags).await;
    let owner = app.user("hookowner").await;
    let room_id = app.room(&owner, "hooked", None).await;
    // Refuses every first attempt, and every attempt of one event three times.
    let receiver = receiver(|attempt| if attempt == 1 { 503 } else { 204 }).await;
    let created = create_webhook(&app, &owner, &room_id, &json!({"url": receiver.url})).await;
    let secret = created["secret"].as_str().unwrap();
    let webhook_id = created["id"].as_str().unwrap();
    assert_eq!(key_of(secret).len(), 32);

    let member = app.user("hookmember").await;
    app.post_json(&format!("/rooms/{room_id}/join"), Some(&member), &json!({}))
        .await;
    for n in 0..5 {
        assert_eq!(
            app.post_message(&owner, &room_id, &format!("message {n}"))
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let listed = wait_for(&app, &owner, &room_id, webhook_id, |listed| {
        listed.len() == 6 && listed.iter().all(|d| d["state"] == "delivered")
    })
    .await;

    let received = receiver.received.lock().unwrap().clone();
    let key = key_of(secret);
    for request in &received {
        let timestamp: i64 = request.timestamp.parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);
        let expected =
            webhooks::signature::sign(&key, &request.id, timestamp, request.body.as_bytes());
        assert_eq!(
            request.signature, expected,
            "a signature that does not verify"
        );
    }
    // Every event twice (refused, then accepted), under one id, in the room's order.
    assert_eq!(received.len(), 12);
    let accepted: Vec<Value> = received
        .chunks(2)
        .map(|pair| {
            assert_eq!(pair[0].id, pair[1].id, "a retry keeps its webhook-id");
            assert_eq!(pair[0].body, pair[1].body);
            serde_json::from_str(&pair[1].body).unwrap()
        })
        .collect();
    let sequences: Vec<i64> = accepted
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(
        sequences,
        (3..=8).collect::<Vec<_>>(),
        "the join and five messages, in order"
    );
    assert_eq!(accepted[0]["event_type"], "MemberJoined");
    assert_eq!(
        accepted[1]["payload"]["MessagePosted"]["content"],
        "message 0"
    );
    assert_eq!(accepted[0]["aggregate_id"], room_id);
    for delivery in &listed {
        assert_eq!(delivery["attempts"], 2);
        let log = delivery["attempt_log"].as_array().unwrap();
        assert_eq!(log[0]["status_code"], 503);
        assert!(log[0]["error"].as_str().unwrap().contains("503"));
        assert_eq!(log[1]["status_code"], 204);
        assert!(log[1]["error"].is_null());
    }

    // The secret is in no event: not in the audit API's output, nor in what `chat replay` reads.
    let encoded = secret.trim_start_matches("whsec_");
    let leaks = app
        .count(&format!(
            "SELECT count(*) FROM events WHERE payload::text LIKE '%{encoded}%' OR metadata::text LIKE '%{encoded}%'"
        ))
        .await;
    assert_eq!(leaks, 0);
    assert_eq!(
        app.count("SELECT count(*) FROM events WHERE aggregate_type = 'RoomWebhooks'")
            .await,
        1
    );
    let listing = app
        .get_json(&format!("/rooms/{room_id}/webhooks"), Some(&owner))
        .await;
    assert_eq!(listing.as_array().unwrap().len(), 1);
    assert!(listing[0].get("secret").is_none());
    assert!(!listing.to_string().contains(encoded));
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_dead_lettered_and_listed() {
    let mut flags = vec!["--webhook-allow", "127.0.0.1", "--webhook-give-up", "1s"];
    flags.extend_from_slice(&FAST_RETRIES);
    let app = spawn_app_with(&flags).await;
    let owner = app.user("deadowner").await;
    let room_id = app.room(&owner, "dead letters", None).await;
    let receiver = receiver(|_| 500).await;
    let body = json!({"url": receiver.url, "event_types": ["MessagePosted"]});
    let created = create_webhook(&app, &owner, &room_id, &body).await;
    let webhook_id = created["id"].as_str().unwrap();
    app.post_message(&owner, &room_id, "never taken").await;
    app.post_message(&owner, &room_id, "nor this").await;
    wait_for(&app, &owner, &room_id, webhook_id, |listed| {
        listed.len() == 2 && listed.iter().all(|d| d["state"] == "dead_lettered")
    })
    .await;
    let dead = deliveries(&app, &owner, &room_id, webhook_id, "?state=dead_lettered").await;
    assert_eq!(dead.len(), 2);
    assert!(
        dead[0]["attempts"].as_i64().unwrap() >= 2,
        "retried before giving up"
    );
    assert!(dead[0]["finished_at"].is_string());
    assert!(
        deliveries(&app, &owner, &room_id, webhook_id, "?state=pending")
            .await
            .is_empty()
    );
    let received = receiver.received.lock().unwrap().clone();
    let first_of_second = received.iter().position(|r| r.id == dead[1]["id"]).unwrap();
    assert!(
        received[..first_of_second]
            .iter()
            .all(|r| r.id == dead[0]["id"]),
        "the second waited until the first was given up"
    );
}

#[tokio::test]
async fn a_url_of_a_private_host_is_refused_when_not_allowed() {
    let app = spawn_app_with(&FAST_RETRIES).await;
    let owner = app.user("ssrfowner").await;
    let room_id = app.room(&owner, "guarded", None).await;
    let receiver = receiver(|_| 204).await;
    let port = receiver.url.split(':').nth(2).unwrap().to_owned();
    let by_name = create_webhook(
        &app,
        &owner,
        &room_id,
        &json!({"url": format!("http://localhost:{port}")}),
    )
    .await;
    let by_address = create_webhook(&app, &owner, &room_id, &json!({"url": receiver.url})).await;
    let mapped = create_webhook(
        &app,
        &owner,
        &room_id,
        &json!({"url": format!("http://[::ffff:127.0.0.1]:{port}/hook")}),
    )
    .await;
    app.post_message(&owner, &room_id, "for nobody").await;
    for (webhook, why) in [
        (&by_name, "loopback"),
        (&by_address, "127.0.0.1 is loopback"),
        (&mapped, "IPv4-mapped"),
    ] {
        let webhook_id = webhook["id"].as_str().unwrap();
        let listed = wait_for(&app, &owner, &room_id, webhook_id, |listed| {
            listed
                .first()
                .is_some_and(|d| d["attempts"].as_i64() >= Some(1))
        })
        .await;
        let error = listed[0]["attempt_log"][0]["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(error.starts_with("refused: "), "{error}");
        assert!(error.contains(why), "{error}");
        assert!(listed[0]["attempt_log"][0]["status_code"].is_null());
    }
    assert!(
        receiver.received.lock().unwrap().is_empty(),
        "nothing reached it"
    );
}

#[tokio::test]
async fn only_the_owner_manages_webhooks_and_bad_ones_are_refused() {
    let app = spawn_app_with(&["--webhooks-per-room", "2"]).await;
    let owner = app.user("realowner").await;
    let other = app.user("intruder").await;
    let room_id = app.room(&owner, "owned", None).await;
    app.post_json(&format!("/rooms/{room_id}/join"), Some(&other), &json!({}))
        .await;
    let path = format!("/rooms/{room_id}/webhooks");
    let good = json!({"url": "https://hooks.example.com/x"});
    let refused = app.post_json(&path, Some(&other), &good).await;
    assert_error(refused, StatusCode::FORBIDDEN, None).await;
    assert_error(
        app.get(&path, Some(&other)).await,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    assert_error(
        app.post_json(&path, None, &good).await,
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;
    let nowhere = format!("/rooms/{}/webhooks", uuid::Uuid::new_v4());
    assert_error(
        app.post_json(&nowhere, Some(&owner), &good).await,
        StatusCode::NOT_FOUND,
        None,
    )
    .await;

    let long = format!("https://example.com/{}", "a".repeat(2100));
    for bad in [
        json!({"url": "ftp://example.com/"}),
        json!({"url": "not a url"}),
        json!({"url": ""}),
        json!({"url": long}),
        json!({"url": "http://user:pw@example.com/"}),
        json!({"url": "https://example.com/\u{0}"}),
        json!({"url": "https://example.com/", "event_types": []}),
        json!({"url": "https://example.com/", "event_types": ["NoSuchEvent"]}),
        json!({"url": "https://example.com/", "event_types": "MessagePosted"}),
        json!({"url": 5}),
        json!({}),
    ] {
        let response = app.post_json(&path, Some(&owner), &bad).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM events WHERE aggregate_type = 'RoomWebhooks'")
            .await,
        0
    );
    assert_eq!(app.count("SELECT count(*) FROM webhook_secrets").await, 0);

    let first = create_webhook(&app, &owner, &room_id, &good).await;
    create_webhook(&app, &owner, &room_id, &good).await;
    let over = app.post_json(&path, Some(&owner), &good).await;
    assert_error(over, StatusCode::BAD_REQUEST, None).await;
    assert_eq!(
        app.count("SELECT count(*) FROM webhook_secrets").await,
        2,
        "the refused one's secret is gone"
    );

    let webhook = format!("{path}/{}", first["id"].as_str().unwrap());
    let delete = |token: &str| {
        app.client
            .delete(app.url(&webhook))
            .bearer_auth(token.to_owned())
            .send()
    };
    assert_eq!(
        delete(&other).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&owner).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        delete(&owner).await.unwrap(),
        StatusCode::NOT_FOUND,
        Some("Webhook not found"),
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM webhook_secrets").await, 1);
    let deliveries = app
        .get(&format!("{webhook}/deliveries"), Some(&owner))
        .await;
    assert_error(deliveries, StatusCode::NOT_FOUND, None).await;
    let unknown = app
        .get(&format!("{webhook}/nothing-here"), Some(&owner))
        .await;
    assert_error(unknown, StatusCode::NOT_FOUND, None).await;
    // Configuring webhooks took none of the room's sequence numbers.
    let room_events = format!(
        "SELECT count(*) FROM events WHERE aggregate_type = 'Room' AND aggregate_id = '{room_id}'"
    );
    assert_eq!(app.count(&room_events).await, 3);
}
