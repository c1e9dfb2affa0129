//! Processes of one system hear each other on a topic; another system's never do.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bus::{Broadcast, BusConfig};

fn system(name: &str) -> BusConfig {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    BusConfig::new(
        std::env::var("AMQP_URL")
            .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
        format!(
            "bus_broadcast_{name}_{}_{}",
            std::process::id(),
            now.as_nanos()
        ),
    )
}

async fn heard(broadcast: &mut Broadcast) -> Vec<u8> {
    tokio::time::timeout(Duration::from_secs(5), broadcast.hear())
        .await
        .expect("heard in time")
        .expect("the link holds")
}

#[tokio::test]
async fn what_one_process_says_every_process_on_the_topic_hears_itself_included() {
    let config = system("one");
    let mut first = Broadcast::join(&config, "presence").await.unwrap();
    let mut second = Broadcast::join(&config, "presence").await.unwrap();
    let mut elsewhere = Broadcast::join(&system("other"), "presence").await.unwrap();

    first.say(b"hello").await.unwrap();
    assert_eq!(heard(&mut first).await, b"hello");
    assert_eq!(heard(&mut second).await, b"hello");
    let nothing = tokio::time::timeout(Duration::from_millis(300), elsewhere.hear()).await;
    assert!(nothing.is_err(), "another system hears nothing");

    let mut second = second.reconnect().await;
    first.say(b"again").await.unwrap();
    assert_eq!(
        heard(&mut second).await,
        b"again",
        "heard after reconnecting"
    );
    for broadcast in [first, second, elsewhere] {
        broadcast.close().await;
    }
}
