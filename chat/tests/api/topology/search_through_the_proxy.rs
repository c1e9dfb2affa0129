//! A user searches through the proxy: `/search/messages` reaches the query API, which serves it
//! from the read tables the projectors keep, and an unknown subpath of `/search` is its JSON 404.

use reqwest::StatusCode;

use super::Topology;
use crate::helpers::assert_error;
use crate::reading_metrics::sample;
use crate::searching_messages::{contents, posted, projected};

#[tokio::test]
async fn a_search_reaches_the_query_api_through_the_proxy() {
    let topology = Topology::start().await;
    let app = &topology.app;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "behind caddy", None).await;
    posted(app, &alice, &room, "a tangerine through the proxy").await;
    projected(app, &room, 1).await;

    assert_eq!(
        contents(app, &alice, "tangerine").await,
        ["a tangerine through the proxy"]
    );
    let metrics = topology.query_api.app.metrics().await;
    let labels = [
        ("route", "/search/messages"),
        ("method", "GET"),
        ("status", "200"),
    ];
    let answered = sample(&metrics, "chat_http_requests_total", &labels).unwrap_or(0.0);
    assert_eq!(answered, 1.0, "{}", topology.proxy_log());

    let unknown = app.get("/search/nothing-here", Some(&alice)).await;
    let body = assert_error(unknown, StatusCode::NOT_FOUND, None).await;
    assert_eq!(body["code"], "not_found");
}
