//! An operator's orchestrator asks every process whether it serves (`/healthz`) and whether it
//! can do its work (`/readyz`): a process whose broker is cut off, or whose projector cannot
//! apply, says so and names the dependency, and says ready again once it is back.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::{amqp_url_through, TcpProxy};

use crate::helpers::TestApp;
use crate::processes::Deployment;

/// Longer than any readiness look takes (each dependency has 2 s, answers are kept 1 s).
const SETTLES_WITHIN: Duration = Duration::from_secs(20);

impl TestApp {
    /// `/readyz`'s status and body.
    pub async fn readiness(&self) -> (StatusCode, Value) {
        let response = self.get("/readyz", None).await;
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Waits until `/readyz` answers `status`, and answers its body.
    pub async fn readiness_becomes(&self, status: StatusCode) -> Value {
        let deadline = tokio::time::Instant::now() + SETTLES_WITHIN;
        loop {
            let (now, body) = self.readiness().await;
            if now == status {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "/readyz stayed {now}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn every_role_that_needs_the_broker_names_it_while_cut_off_and_is_ready_again_after() {
    let proxy = TcpProxy::start("127.0.0.1:5672").await;
    let through_proxy = amqp_url_through(&proxy);
    let deployment = Deployment::new().await;
    let mut needing_broker = Vec::new();
    for role in ["command-api", "projector", "fanout"] {
        needing_broker.push(
            deployment
                .start(role, &[("AMQP_URL", &through_proxy)])
                .await,
        );
    }
    let query_api = deployment.start("query-api", &[]).await;

    proxy.cut();
    for node in &needing_broker {
        let body = node
            .app
            .readiness_becomes(StatusCode::SERVICE_UNAVAILABLE)
            .await;
        assert_eq!(body["down"], json!(["broker"]), "{}: {body}", node.role);
        assert_eq!(body["code"], "not_ready");
        assert!(body["detail"]
            .as_str()
            .unwrap()
            .starts_with("broker is down"));
        let healthz = node.app.get("/healthz", None).await;
        assert_eq!(healthz.status(), StatusCode::OK, "it still serves");
    }
    let (status, body) = query_api.app.readiness().await;
    assert_eq!(status, StatusCode::OK, "reads need no broker: {body}");

    proxy.restore();
    for node in &needing_broker {
        let body = node.app.readiness_becomes(StatusCode::OK).await;
        assert_eq!(body["down"], json!([]));
        assert_eq!(body["ready"], true);
    }
}

#[tokio::test]
async fn a_projector_that_cannot_apply_names_its_lag_and_is_ready_again_once_it_caught_up() {
    let deployment = Deployment::new().await;
    let command_api = deployment.start("command-api", &[]).await;
    let projector = deployment
        .start("projector", &[("CHAT_READY_MAX_LAG", "1s")])
        .await;
    let alice = command_api.app.user("alice").await;
    let room = command_api.app.room(&alice, "lobby", None).await;

    // Whatever the projector writes to the messages table waits for this transaction.
    let mut blocker = deployment.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let posted = command_api.app.post_message(&alice, &room, "stuck").await;
    assert_eq!(posted.status(), StatusCode::CREATED);

    let body = projector
        .app
        .readiness_becomes(StatusCode::SERVICE_UNAVAILABLE)
        .await;
    assert_eq!(body["down"], json!(["projection_lag"]), "{body}");
    let database = &body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["dependency"] == "database")
        .unwrap()["up"];
    assert_eq!(
        database, true,
        "a projector waiting on a lock still reaches the database"
    );

    blocker.rollback().await.unwrap();
    projector.app.readiness_becomes(StatusCode::OK).await;
    command_api
        .app
        .eventually("SELECT count(*) FROM messages", 1)
        .await;
}

#[tokio::test]
async fn the_projector_serves_its_health_and_nothing_of_the_api() {
    let deployment = Deployment::new().await;
    let projector = deployment.start("projector", &[]).await;

    assert_eq!(
        projector.app.get("/healthz", None).await.status(),
        StatusCode::OK
    );
    let (status, body) = projector.app.readiness().await;
    assert_eq!(status, StatusCode::OK);
    let checked: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|check| check["dependency"].as_str().unwrap())
        .collect();
    assert_eq!(checked, ["database", "broker", "projection_lag"]);
    for path in ["/rooms/", "/docs/", "/openapi.json", "/"] {
        let response = projector.app.get(path, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "not_found");
    }
}
