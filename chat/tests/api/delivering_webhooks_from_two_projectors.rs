//! Two projector processes, started apart, both run the webhook delivery worker on one database
//! and one bus. Between them, each webhook still gets every event of its room once accepted, in
//! the room's order, one request at a time: never two of a webhook's deliveries in flight at
//! once, never a later event before an earlier one is taken, refused ones retried in place.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::processes::{Deployment, Node};
use crate::reading_metrics::sample;
use crate::webhooks::{create_webhook, key_of, wait_for};

/// Each projector's settings: receivers on loopback, quick retries, few dispatchers (so neither
/// process can hold every webhook), and a short idle poll (so the other process's deliveries are
/// seen soon).
const PROJECTOR_ENV: [(&str, &str); 6] = [
    ("CHAT_WEBHOOK_ALLOW", "127.0.0.1"),
    ("CHAT_WEBHOOK_RETRY_FIRST", "100ms"),
    ("CHAT_WEBHOOK_RETRY_MAX", "200ms"),
    ("CHAT_WEBHOOK_DISPATCHERS", "2"),
    ("CHAT_WEBHOOK_POLL_INTERVAL", "50ms"),
    ("CHAT_PROJECTOR_CATCH_UP_INTERVAL", "1s"),
];

/// One request to one of the receiver's endpoints, and what it was answered.
#[derive(Debug, Clone)]
struct Request {
    id: String,
    signature: String,
    timestamp: i64,
    body: String,
    sequence: i64,
    status: u16,
}

#[derive(Default)]
struct Endpoint {
    requests: Vec<Request>,
    in_flight: usize,
    most_in_flight: usize,
}

/// A local server with any number of endpoints (`/hook/{n}`), each answering after `delay` with
/// `answer(attempt of this webhook-id)`, and counting the requests it has in flight at once.
struct Receiver {
    port: u16,
    endpoints: Arc<Mutex<HashMap<String, Endpoint>>>,
}

impl Receiver {
    async fn start(delay: Duration, answer: fn(usize) -> u16) -> Self {
        let endpoints: Arc<Mutex<HashMap<String, Endpoint>>> = Arc::default();
        let shared = Arc::clone(&endpoints);
        let app = axum::Router::new().route(
            "/hook/{n}",
            axum::routing::post(
                move |Path(n): Path<String>, headers: HeaderMap, body: String| {
                    let endpoints = Arc::clone(&shared);
                    async move {
                        {
                            let mut all = endpoints.lock().unwrap();
                            let endpoint = all.entry(n.clone()).or_default();
                            endpoint.in_flight += 1;
                            endpoint.most_in_flight =
                                endpoint.most_in_flight.max(endpoint.in_flight);
                        }
                        tokio::time::sleep(delay).await;
                        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
                        let id = header("webhook-id");
                        let event: Value = serde_json::from_str(&body).unwrap();
                        let mut all = endpoints.lock().unwrap();
                        let endpoint = all.get_mut(&n).unwrap();
                        endpoint.in_flight -= 1;
                        let attempt = endpoint.requests.iter().filter(|r| r.id == id).count() + 1;
                        let status = answer(attempt);
                        endpoint.requests.push(Request {
                            id,
                            signature: header("webhook-signature"),
                            timestamp: header("webhook-timestamp").parse().unwrap(),
                            sequence: event["sequence"].as_i64().unwrap(),
                            body,
                            status,
                        });
                        AxumStatus::from_u16(status).unwrap()
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { port, endpoints }
    }

    fn url(&self, n: usize) -> String {
        format!("http://127.0.0.1:{}/hook/{n}", self.port)
    }

    /// What endpoint `n` got, and the most requests it had in flight at once.
    fn endpoint(&self, n: usize) -> (Vec<Request>, usize) {
        let all = self.endpoints.lock().unwrap();
        let endpoint = &all[&n.to_string()];
        (endpoint.requests.clone(), endpoint.most_in_flight)
    }
}

struct TwoProjectors {
    command_api: Node,
    projectors: [Node; 2],
    _deployment: Deployment,
}

async fn two_projectors() -> TwoProjectors {
    let deployment = Deployment::new().await;
    let command_api = deployment.start("command-api", &[]).await;
    let first = deployment.start("projector", &PROJECTOR_ENV).await;
    let second = deployment.start("projector", &PROJECTOR_ENV).await;
    TwoProjectors {
        command_api,
        projectors: [first, second],
        _deployment: deployment,
    }
}

/// The attempts `outcome` (`delivered`, `failed`) each projector process made.
async fn attempts_by_process(projectors: &[Node; 2], outcome: &str) -> [f64; 2] {
    let mut counts = [0.0; 2];
    for (count, projector) in counts.iter_mut().zip(projectors) {
        let text = projector.app.metrics().await;
        *count = sample(&text, webhooks::DELIVERIES, &[("outcome", outcome)]).unwrap_or(0.0);
    }
    counts
}

/// Every request was signed with the webhook's secret, under its delivery's id.
fn assert_signed(requests: &[Request], secret: &str) {
    let key = key_of(secret);
    for request in requests {
        let expected = webhooks::signature::sign(
            &key,
            &request.id,
            request.timestamp,
            request.body.as_bytes(),
        );
        assert_eq!(request.signature, expected);
    }
}

const MESSAGES: i64 = 12;

#[tokio::test]
async fn two_projectors_deliver_every_event_once_in_order_and_one_at_a_time_per_webhook() {
    let system = two_projectors().await;
    let app = &system.command_api.app;
    let receiver = Receiver::start(Duration::from_millis(40), |_| 204).await;
    let owner = app.user("twohooks").await;
    let mut webhooks = Vec::new();
    let mut rooms = Vec::new();
    for room in 0..2 {
        let room_id = app.room(&owner, &format!("room {room}"), None).await;
        for _ in 0..2 {
            let url = receiver.url(webhooks.len());
            let created = create_webhook(app, &owner, &room_id, &json!({"url": url})).await;
            webhooks.push((room_id.clone(), created));
        }
        rooms.push(room_id);
    }
    for n in 0..MESSAGES {
        for room_id in &rooms {
            let posted = app.post_message(&owner, room_id, &format!("m{n}")).await;
            assert_eq!(posted.status(), StatusCode::CREATED);
        }
    }

    for (n, (room_id, created)) in webhooks.iter().enumerate() {
        let webhook_id = created["id"].as_str().unwrap();
        let listed = wait_for(app, &owner, room_id, webhook_id, |listed| {
            listed.len() == MESSAGES as usize && listed.iter().all(|d| d["state"] == "delivered")
        })
        .await;
        let (requests, most_in_flight) = receiver.endpoint(n);
        assert_eq!(most_in_flight, 1, "webhook {n} got two requests at once");
        let sequences: Vec<i64> = requests.iter().map(|r| r.sequence).collect();
        assert_eq!(
            sequences,
            (3..3 + MESSAGES).collect::<Vec<_>>(),
            "webhook {n}: every event once, in the room's order"
        );
        let ids: Vec<&str> = listed.iter().map(|d| d["id"].as_str().unwrap()).collect();
        let sent: Vec<&str> = requests.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(sent, ids);
        assert!(listed.iter().all(|d| d["attempts"] == 1));
        assert_signed(&requests, created["secret"].as_str().unwrap());
    }
    let delivered = attempts_by_process(&system.projectors, "delivered").await;
    assert_eq!(delivered[0] + delivered[1], (4 * MESSAGES) as f64);
    assert!(
        delivered.iter().all(|&count| count > 0.0),
        "both processes delivered: {delivered:?}"
    );
}

#[tokio::test]
async fn two_projectors_retry_refused_deliveries_in_place_before_any_later_one() {
    let system = two_projectors().await;
    let app = &system.command_api.app;
    // Refuses every delivery's first attempt, takes the second.
    let receiver = Receiver::start(Duration::from_millis(20), |attempt| {
        if attempt == 1 {
            503
        } else {
            204
        }
    })
    .await;
    let owner = app.user("refusedtwice").await;
    let room_id = app.room(&owner, "refusals", None).await;
    let mut webhooks = Vec::new();
    for n in 0..2 {
        let body = json!({"url": receiver.url(n)});
        webhooks.push(create_webhook(app, &owner, &room_id, &body).await);
    }
    for n in 0..MESSAGES {
        let posted = app.post_message(&owner, &room_id, &format!("m{n}")).await;
        assert_eq!(posted.status(), StatusCode::CREATED);
    }

    for (n, created) in webhooks.iter().enumerate() {
        let webhook_id = created["id"].as_str().unwrap();
        let listed = wait_for(app, &owner, &room_id, webhook_id, |listed| {
            listed.len() == MESSAGES as usize && listed.iter().all(|d| d["state"] == "delivered")
        })
        .await;
        let (requests, most_in_flight) = receiver.endpoint(n);
        assert_eq!(most_in_flight, 1, "webhook {n} got two requests at once");
        // Each event refused, then retried under the same id and taken, before the next one.
        let expected: Vec<(i64, u16)> = (3..3 + MESSAGES)
            .flat_map(|sequence| [(sequence, 503), (sequence, 204)])
            .collect();
        let got: Vec<(i64, u16)> = requests.iter().map(|r| (r.sequence, r.status)).collect();
        assert_eq!(got, expected, "webhook {n}");
        for pair in requests.chunks(2) {
            assert_eq!(pair[0].id, pair[1].id, "a retry keeps its webhook-id");
            assert_eq!(pair[0].body, pair[1].body);
        }
        for delivery in &listed {
            assert_eq!(delivery["attempts"], 2);
            assert_eq!(delivery["attempt_log"][0]["status_code"], 503);
            assert_eq!(delivery["attempt_log"][1]["status_code"], 204);
        }
        assert_signed(&requests, created["secret"].as_str().unwrap());
    }
    let failed = attempts_by_process(&system.projectors, "failed").await;
    let delivered = attempts_by_process(&system.projectors, "delivered").await;
    assert_eq!(failed[0] + failed[1], (2 * MESSAGES) as f64);
    assert_eq!(delivered[0] + delivered[1], (2 * MESSAGES) as f64);
}
