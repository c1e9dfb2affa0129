//! A user makes a bot and the bot follows the feed through the proxy: `/bots` reaches a command
//! API (reads included), `/events` the query API, whose Server-Sent Events Caddy passes on as
//! they come; revoking the bot on a command API ends its stream on the query API within a second.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::Topology;
use crate::helpers::assert_error;
use crate::helpers::TestApp;
use crate::processes::Node;
use crate::reading_metrics::sample;

/// Requests to `routes` the `nodes` answered, by their own metrics.
pub(super) async fn answered(nodes: &[&Node], routes: &[(&str, &str, &str)]) -> f64 {
    let mut total = 0.0;
    for node in nodes {
        let metrics = node.app.metrics().await;
        for (route, method, status) in routes {
            let labels = [("route", *route), ("method", *method), ("status", *status)];
            total += sample(&metrics, "chat_http_requests_total", &labels).unwrap_or(0.0);
        }
    }
    total
}

const BOT_ROUTES: [(&str, &str, &str); 3] = [
    ("/bots", "POST", "201"),
    ("/bots", "GET", "200"),
    ("/bots/{bot_id}", "DELETE", "204"),
];
const FEED_ROUTES: [(&str, &str, &str); 1] = [("/events", "GET", "200")];

async fn positions(app: &TestApp, token: &str, after: i64) -> Vec<(i64, String)> {
    let page = app.feed_page(token, &format!("?after={after}")).await;
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["position"].as_i64().unwrap(),
                e["event_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_bot_is_made_and_follows_the_feed_as_json_and_a_stream_through_the_proxy() {
    let topology = Topology::start().await;
    let app = &topology.app;
    let command_apis: Vec<&Node> = topology.command_apis.iter().collect();
    let query_api = [&topology.query_api];
    let alice = app.user("alice").await;
    let room = app.room(&alice, "behind caddy", None).await;
    let bot = app.bot(&alice, "helper").await;
    let token = bot["token"].as_str().unwrap();
    assert_eq!(
        app.get_json("/bots", Some(&alice)).await[0]["id"],
        bot["id"]
    );
    let joined = app
        .post_json(&format!("/rooms/{room}/join"), Some(token), &json!({}))
        .await;
    assert_eq!(joined.status(), StatusCode::OK, "{}", topology.proxy_log());
    app.post_message(&alice, &room, "hello @helper.bot").await;

    // JSON pages: its account's events, then the room's from its join on.
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen = positions(app, token, 0).await;
        if seen.iter().any(|(_, kind)| kind == "MessagePosted") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kinds: Vec<&str> = seen.iter().map(|(_, kind)| kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"BotRegistered"), "{kinds:?}");
    assert!(kinds.contains(&"MemberJoined"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"MessagePosted"), "{kinds:?}");
    let (last, _) = *seen.last().unwrap();

    // The stream, resumed after the last position the pages showed: only what comes next, as it
    // comes (Caddy buffers nothing of text/event-stream).
    let mut stream = app.follow(token, "", Some(last)).await;
    assert!(
        stream
            .next_within(Duration::from_millis(500))
            .await
            .is_none(),
        "nothing before the next message"
    );
    app.post_message(&alice, &room, "live").await;
    let live = stream.next().await;
    assert!(live.id > last);
    assert_eq!(live.event, "MessagePosted");
    assert_eq!(live.data["payload"]["MessagePosted"]["content"], "live");
    let mut resumed = app.follow(token, "?after=0", Some(last)).await;
    assert_eq!(
        resumed.next().await.id,
        live.id,
        "Last-Event-ID wins over after"
    );

    let revoked = app
        .delete(&format!("/bots/{}", bot["id"].as_str().unwrap()), &alice)
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert!(
        stream.ends_within(Duration::from_secs(1)).await,
        "the query API ends the stream a command API revoked"
    );
    assert_error(
        app.get("/events", Some(token)).await,
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;

    assert_eq!(
        answered(&command_apis, &BOT_ROUTES).await,
        3.0,
        "the command APIs answered every /bots request"
    );
    assert_eq!(
        answered(&command_apis, &FEED_ROUTES).await,
        0.0,
        "no feed request reached a command API"
    );
    assert!(
        answered(&query_api, &FEED_ROUTES).await >= 3.0,
        "the query API answered the pages and both streams"
    );
}
