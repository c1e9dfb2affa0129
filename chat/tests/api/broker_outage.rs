use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use testkit::TcpProxy;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_thousand_messages_posted_across_a_broker_outage_all_reach_the_read_tables_once() {
    let proxy = TcpProxy::start("127.0.0.1:5672").await;
    let amqp_url = testkit::amqp_url_through(&proxy);
    let app = spawn_app_with(&["--amqp-url", &amqp_url]).await;
    let alice = app.user("alice").await;
    let mut rooms = Vec::new();
    for n in 0..10 {
        rooms.push(app.room(&alice, &format!("room {n}"), None).await);
    }
    let posts = futures::stream::iter(0..1000)
        .map(|n| app.post_message(&alice, &rooms[n % rooms.len()], &format!("message {n}")))
        .buffer_unordered(16)
        .map(|response| response.status())
        .collect::<Vec<_>>();
    let outage = async {
        while app
            .count("SELECT count(*) FROM events WHERE event_type = 'MessagePosted'")
            .await
            < 300
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        proxy.cut();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let stranded = app.count("SELECT count(*) FROM outbox").await;
        proxy.restore();
        stranded
    };
    let (statuses, stranded) = tokio::join!(posts, outage);
    assert!(
        stranded > 0,
        "posts went on while the broker was away, and waited"
    );
    assert!(statuses.iter().all(|status| *status == StatusCode::CREATED));
    app.eventually("SELECT count(*) FROM messages", 1000).await;
    assert_eq!(
        app.count("SELECT count(DISTINCT content) FROM messages")
            .await,
        1000
    );
    // The relay deletes a batch just after the broker confirmed it: a moment after delivery.
    app.eventually("SELECT count(*) FROM outbox", 0).await;
}
