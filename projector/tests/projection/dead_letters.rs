use bus::EventEnvelope;
use uuid::Uuid;

use crate::helpers::{mixed, System};

const BOGUS_EVENTS: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
VALUES ('Room', $1, 1, 'RoomArchived', '1', '{\"RoomArchived\": {}}', '{}'),
       ('Room', $2, 1, 'MessagePosted', '1', '{\"MessagePosted\": {\"oops\": true}}', '{}'),
       ('Invoice', $3, 1, 'InvoiceSent', '1', '{\"InvoiceSent\": {}}', '{}')";

#[tokio::test]
async fn unknown_and_corrupt_events_are_dead_lettered_with_a_reason_and_later_events_project() {
    let system = System::new().await;
    let _relay = system.start_relay();
    let _projector = system.start_live_projector().await;
    sqlx::query(BOGUS_EVENTS)
        .bind(Uuid::new_v4().to_string())
        .bind(Uuid::new_v4().to_string())
        .bind(Uuid::new_v4().to_string())
        .execute(&system.pool)
        .await
        .unwrap();
    // An envelope on the bus whose payload is no event at all.
    let mut garbage = crate::helpers::user_envelope("garbage");
    garbage.payload = serde_json::json!("not an event");
    system.publish(&[garbage]).await;
    let shape = mixed(400);
    system.seed(&shape).await;
    system
        .eventually("SELECT count(*) FROM messages", shape.messages as i64)
        .await;

    let letters = system.dead_letters_eventually(4).await;
    let reasons: Vec<&str> = letters.iter().map(|l| l.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("unknown event type RoomArchived")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("malformed MessagePosted")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("unknown aggregate type Invoice")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("not a UserRegistered event")),
        "{reasons:?}"
    );
    let archived: Vec<&EventEnvelope> = letters
        .iter()
        .filter_map(|letter| letter.envelope.as_ref())
        .filter(|event| event.event_type == "RoomArchived")
        .collect();
    assert_eq!(archived.len(), 1, "the envelope travels with its reason");

    // Still unappliable: a retry sends them back, and back they come, once each.
    assert_eq!(bus::retry_dead_letters(&system.bus).await.unwrap(), 4);
    let again = system.dead_letters_eventually(4).await;
    assert!(again.iter().all(|letter| !letter.reason.is_empty()));
}
