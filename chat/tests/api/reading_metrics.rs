//! An operator's Prometheus scrapes `/metrics` of every process: requests counted by route
//! template (never by the raw path, whatever clients send), and the pipeline's counters moving
//! as a message goes from a post to the relay, the projector and a socket.

use reqwest::StatusCode;

use crate::helpers::TestApp;
use crate::processes::Deployment;

impl TestApp {
    /// The process's metrics, in Prometheus's text format.
    pub async fn metrics(&self) -> String {
        let response = self.get("/metrics", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        response.text().await.unwrap()
    }

    /// Waits (up to 20 s) until the sample of `name` with `labels` satisfies `wanted`; answers it.
    pub async fn metric_becomes(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        wanted: impl Fn(f64) -> bool,
    ) -> f64 {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let text = self.metrics().await;
            if let Some(value) = sample(&text, name, labels).filter(|value| wanted(*value)) {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} {labels:?} never became what was wanted:\n{text}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// The value of the sample of `name` whose labels include `labels`.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        let matches = metric == name
            && labels
                .iter()
                .all(|(label, wanted)| rest.contains(&format!("{label}=\"{wanted}\"")));
        matches.then(|| value.parse().ok()).flatten()
    })
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_the_pipeline_counters_move_with_a_message() {
    let deployment = Deployment::new().await;
    let command_api = deployment.start("command-api", &[]).await;
    let projector = deployment.start("projector", &[]).await;
    let fanout = deployment.start("fanout", &[]).await;
    let alice = command_api.app.user("alice").await;
    let room = command_api.app.room(&alice, "lobby", None).await;
    let mut socket = fanout.app.socket(&room, &alice, "v=2").await;
    fanout
        .app
        .metric_becomes("chat_ws_connections", &[], |open| open == 1.0)
        .await;

    let posted = command_api.app.post_message(&alice, &room, "counted").await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    assert_eq!(socket.next_of("message").await["content"], "counted");

    let posts = [
        ("route", "/rooms/{room_id}/messages"),
        ("method", "POST"),
        ("status", "201"),
    ];
    command_api
        .app
        .metric_becomes("chat_http_requests_total", &posts, |count| count == 1.0)
        .await;
    let text = command_api.app.metrics().await;
    assert!(!text.contains(&room), "a raw path became a label:\n{text}");
    assert!(sample(
        &text,
        "chat_http_request_duration_seconds_count",
        &[("route", "/rooms/{room_id}/messages")]
    )
    .is_some_and(|count| count >= 1.0));
    // The relay runs in both writing roles; one of them is active.
    let mut relayed = 0.0;
    for node in [&command_api, &fanout] {
        relayed += sample(&node.app.metrics().await, "chat_relay_published_total", &[])
            .unwrap_or_default();
    }
    assert!(relayed >= 1.0, "the relay published nothing");
    command_api
        .app
        .metric_becomes("chat_outbox_pending", &[], |pending| pending == 0.0)
        .await;

    projector
        .app
        .metric_becomes("chat_projector_applied_total", &[], |applied| {
            applied >= 1.0
        })
        .await;
    let projected = projector.app.metrics().await;
    assert!(sample(&projected, "chat_projector_lag_seconds", &[]).is_some());
    assert_eq!(sample(&projected, "chat_dead_letters", &[]), Some(0.0));

    fanout
        .app
        .metric_becomes("chat_ws_deliveries_total", &[], |frames| frames >= 1.0)
        .await;
    fanout
        .app
        .metric_becomes("chat_send_to_deliver_seconds_count", &[], |messages| {
            messages == 1.0
        })
        .await;
    socket.close().await;
    fanout
        .app
        .metric_becomes("chat_ws_connections", &[], |open| open == 0.0)
        .await;
}

#[tokio::test]
async fn paths_and_methods_that_match_no_route_share_one_label_each() {
    let deployment = Deployment::new().await;
    let query_api = deployment.start("query-api", &[]).await;
    for n in 0..5 {
        query_api.app.get(&format!("/no/such/path/{n}"), None).await;
        let invented = reqwest::Method::from_bytes(format!("BREW{n}").as_bytes()).unwrap();
        query_api
            .app
            .client
            .request(invented, query_api.app.url("/rooms/"))
            .send()
            .await
            .unwrap();
    }

    let text = query_api.app.metrics().await;
    assert!(!text.contains("/no/such/path"), "{text}");
    assert!(!text.contains("BREW"), "{text}");
    let unmatched = [("route", "unmatched"), ("method", "GET"), ("status", "404")];
    assert_eq!(
        sample(&text, "chat_http_requests_total", &unmatched),
        Some(5.0)
    );
    let invented = [("route", "/rooms/"), ("method", "other")];
    assert_eq!(
        sample(&text, "chat_http_requests_total", &invented),
        Some(5.0)
    );
}

#[tokio::test]
async fn every_answer_of_a_route_tells_the_client_how_long_the_server_took() {
    let app = crate::helpers::spawn_app().await;
    let token = app.user("alice").await;
    let answers = [
        app.get("/rooms/", None).await,
        app.post_json(
            "/rooms/",
            Some(&token),
            &serde_json::json!({"name": "lobby"}),
        )
        .await,
        app.post_json("/rooms/", Some(&token), &serde_json::json!({"name": ""}))
            .await,
        app.get("/no/such/page", None).await,
    ];
    for answer in answers {
        let timing = answer.headers()["server-timing"].to_str().unwrap();
        let millis: f64 = timing
            .strip_prefix("app;dur=")
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("{}: {timing}", answer.url()));
        assert!(millis >= 0.0, "{timing}");
    }
}
