//! A room's owner manages its webhooks through the proxy: every `/rooms/{id}/webhooks` path
//! reaches a command API (the query API has none of them), reads included, and an unknown
//! subpath is its JSON 404.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::Topology;
use crate::helpers::assert_error;
use crate::reading_metrics::sample;

/// Requests to webhook routes each command API answered, by its own metrics.
async fn webhook_requests(topology: &Topology) -> f64 {
    let mut answered = 0.0;
    for node in &topology.command_apis {
        let metrics = node.app.metrics().await;
        for (route, method, status) in [
            ("/rooms/{room_id}/webhooks", "POST", "201"),
            ("/rooms/{room_id}/webhooks", "GET", "200"),
            (
                "/rooms/{room_id}/webhooks/{webhook_id}/deliveries",
                "GET",
                "200",
            ),
            ("/rooms/{room_id}/webhooks/{webhook_id}", "DELETE", "204"),
        ] {
            let labels = [("route", route), ("method", method), ("status", status)];
            answered += sample(&metrics, "chat_http_requests_total", &labels).unwrap_or(0.0);
        }
    }
    answered
}

#[tokio::test]
async fn an_owner_creates_lists_and_deletes_a_webhook_through_the_proxy() {
    let topology = Topology::start().await;
    let app = &topology.app;
    let owner = app.user("hookedup").await;
    let room_id = app.room(&owner, "behind caddy", None).await;
    let path = format!("/rooms/{room_id}/webhooks");

    let created = app
        .post_json(
            &path,
            Some(&owner),
            &json!({"url": "https://hooks.example.com/in"}),
        )
        .await;
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "{}",
        topology.proxy_log()
    );
    let created: Value = created.json().await.unwrap();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let webhook_id = created["id"].as_str().unwrap();

    let listed = app.get_json(&path, Some(&owner)).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], webhook_id);
    assert_eq!(listed[0]["url"], "https://hooks.example.com/in");
    assert!(listed[0].get("secret").is_none());
    let deliveries = app
        .get_json(&format!("{path}/{webhook_id}/deliveries"), Some(&owner))
        .await;
    assert!(deliveries["deliveries"].is_array(), "{deliveries}");

    let unknown = app
        .get(&format!("{path}/{webhook_id}/nothing-here"), Some(&owner))
        .await;
    assert_error(unknown, StatusCode::NOT_FOUND, None).await;
    let deleted = app
        .client
        .delete(app.url(&format!("{path}/{webhook_id}")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_json(&path, Some(&owner)).await,
        json!([]),
        "gone at once"
    );
    assert_eq!(
        webhook_requests(&topology).await,
        5.0,
        "the command APIs answered every webhook request"
    );
}
