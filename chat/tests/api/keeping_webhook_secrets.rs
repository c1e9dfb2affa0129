//! A webhook's signing secret is shown once, to the owner who created it, and nowhere after:
//! not in what auditors read, not in the operator's `chat replay`, not in the owner's listings.
//! The webhook itself is on the record (its events are audited); only the secret is not.

use std::process::Stdio;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::process::Command;

use crate::auditing::auditor_app;
use crate::helpers::TestApp;
use crate::webhooks::{create_webhook, key_of};

/// Every spelling of `secret` a leak could take: as shown, its base64 alone, the key's bytes as
/// hex (PostgreSQL's `bytea` output), and as URL-safe base64.
fn spellings(secret: &str) -> Vec<String> {
    let key = key_of(secret);
    let hex: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
    vec![
        secret.to_owned(),
        secret.trim_start_matches("whsec_").to_owned(),
        hex,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&key),
    ]
}

fn assert_no_secret(output: &str, secrets: &[String], whose: &str) {
    for secret in secrets {
        for spelling in spellings(secret) {
            assert!(
                !output.contains(&spelling),
                "{whose} shows a webhook secret ({spelling}):\n{output}"
            );
        }
    }
}

async fn text(app: &TestApp, path: &str, token: &str) -> String {
    let response = app.get(path, Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn no_audit_replay_or_listing_shows_a_webhook_secret() {
    let (app, auditor) = auditor_app().await;
    let owner = app.user("secretkeeper").await;
    let owner_id = domain::values::Username::parse("secretkeeper")
        .unwrap()
        .user_id();
    let room_id = app.room(&owner, "kept", None).await;
    let kept = json!({"url": "https://hooks.example.com/kept", "event_types": ["MessagePosted"]});
    let kept = create_webhook(&app, &owner, &room_id, &kept).await;
    let gone = json!({"url": "https://hooks.example.com/gone"});
    let gone = create_webhook(&app, &owner, &room_id, &gone).await;
    let gone_path = format!("/rooms/{room_id}/webhooks/{}", gone["id"].as_str().unwrap());
    let deleted = app
        .client
        .delete(app.url(&gone_path))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    app.post_message(&owner, &room_id, "after the webhooks")
        .await;
    let secrets: Vec<String> = [&kept, &gone]
        .iter()
        .map(|created| created["secret"].as_str().unwrap().to_owned())
        .collect();

    // The owner's audit has the webhooks' events, with their URLs: the record is there, the
    // secret is not.
    let owners = text(&app, &format!("/audit/users/{owner_id}/events"), &auditor).await;
    let types: Vec<String> = serde_json::from_str::<Value>(&owners)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["event_type"].as_str().unwrap().to_owned())
        .collect();
    for wanted in ["WebhookCreated", "WebhookDeleted", "MessagePosted"] {
        assert!(types.iter().any(|t| t == wanted), "{wanted} in {types:?}");
    }
    assert!(owners.contains("https://hooks.example.com/kept"));
    assert_no_secret(&owners, &secrets, "the owner's audit");
    for path in [
        format!("/audit/rooms/{room_id}/events"),
        format!("/audit/rooms/{room_id}/state"),
        "/audit/reads".to_owned(),
    ] {
        let output = text(&app, &path, &auditor).await;
        assert_no_secret(&output, &secrets, &path);
    }

    // The owner's own listings.
    let listing = text(&app, &format!("/rooms/{room_id}/webhooks"), &owner).await;
    assert!(listing.contains("https://hooks.example.com/kept"));
    assert_no_secret(&listing, &secrets, "the webhook listing");
    let kept_path = format!("/rooms/{room_id}/webhooks/{}", kept["id"].as_str().unwrap());
    let deliveries = text(&app, &format!("{kept_path}/deliveries"), &owner).await;
    assert_no_secret(&deliveries, &secrets, "the deliveries listing");

    // The operator's timeline, and whatever `chat replay` writes to stderr.
    let replay = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(["replay", "--room", &room_id])
        .env("DATABASE_URL", &app.database_url)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("run chat replay");
    assert!(replay.status.success());
    let printed = String::from_utf8_lossy(&replay.stdout);
    assert!(printed.contains("after the webhooks"), "{printed}");
    assert_no_secret(&printed, &secrets, "chat replay");
    assert_no_secret(
        &String::from_utf8_lossy(&replay.stderr),
        &secrets,
        "chat replay's log",
    );

    // Nor anywhere in the event store, which every one of these reads from.
    let store: Vec<String> =
        sqlx::query_scalar("SELECT payload::text || metadata::text FROM events")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_no_secret(&store.join("\n"), &secrets, "the event store");
    // The table that does keep it shows it in one of the spellings looked for: the look can
    // see a leak.
    let stored: String = sqlx::query_scalar("SELECT secret::text FROM webhook_secrets")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(stored.contains(&spellings(&secrets[0])[2]), "{stored}");
}
