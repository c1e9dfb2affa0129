//! The sweep's view of the store: which rooms the bus left behind, found from the event log and
//! the worker's marks alone, on a real database.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{behind, queue_room};

const RECORD: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
VALUES ($1, $2, $3, $4, '1', $5, '{}')";

async fn record(pool: &PgPool, aggregate_type: &str, room: Uuid, sequence: i64, event_type: &str) {
    let payload = match event_type {
        "WebhookCreated" => json!({ event_type: {
            "webhook_id": Uuid::new_v4(),
            "url": "https://receiver.example/hook",
            "event_types": null,
        }}),
        _ => json!({ event_type: { "content": "hello" } }),
    };
    sqlx::query(RECORD)
        .bind(aggregate_type)
        .bind(room.to_string())
        .bind(sequence)
        .bind(event_type)
        .bind(payload)
        .execute(pool)
        .await
        .expect("record an event");
}

#[tokio::test]
async fn the_sweep_finds_webhooks_never_followed_and_events_past_a_rooms_mark_and_nothing_else() {
    let (_, pool) = testkit::fresh_database().await;
    let hooked = Uuid::new_v4();
    let unhooked = Uuid::new_v4();
    record(&pool, "Room", hooked, 1, "MessagePosted").await;
    record(&pool, "Room", hooked, 2, "MessagePosted").await;
    record(&pool, "RoomWebhooks", hooked, 1, "WebhookCreated").await;
    record(&pool, "Room", hooked, 3, "MessagePosted").await;
    record(&pool, "Room", unhooked, 1, "MessagePosted").await;

    // The webhook was never followed: the room has no marks at all yet.
    assert_eq!(behind(&pool).await.unwrap(), vec![hooked]);

    // The room's events before the webhook are not delivered to it; the one after is.
    assert_eq!(queue_room(&pool, hooked).await.unwrap(), 1);
    assert_eq!(behind(&pool).await.unwrap(), Vec::<Uuid>::new());

    record(&pool, "Room", hooked, 4, "MessagePosted").await;
    record(&pool, "Room", unhooked, 2, "MessagePosted").await;
    assert_eq!(behind(&pool).await.unwrap(), vec![hooked]);
    assert_eq!(queue_room(&pool, hooked).await.unwrap(), 1);
    assert_eq!(behind(&pool).await.unwrap(), Vec::<Uuid>::new());
}
