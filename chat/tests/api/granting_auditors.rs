//! An operator makes a user an auditor, and takes it away, with `chat role grant` / `revoke`:
//! events on the user, on the audit trail beside every read of the audit log, which is recorded
//! before it is served. No name in the configuration can be registered by a stranger any more.

use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::process::Command;

use crate::helpers::{assert_error, spawn_app, TestApp};
use crate::processes::run_to_exit;

/// Runs `chat role <verb> auditor <username>` on the app's database, as an operator would.
async fn role(app: &TestApp, verb: &str, username: &str) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(["role", verb, "auditor", username])
        .env("DATABASE_URL", &app.database_url)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("run chat role");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn trail(entries: &Value) -> Vec<(String, String)> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let kind = entry["event_type"].as_str().unwrap().to_owned();
            let fields = &entry["payload"][&kind];
            let what = fields["resource"]
                .as_str()
                .or(fields["role"].as_str())
                .unwrap()
                .to_owned();
            (kind, what)
        })
        .collect()
}

#[tokio::test]
async fn chat_role_grant_and_revoke_change_what_audit_answers_and_appear_in_the_trail_with_the_reads(
) {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let events = format!("/audit/rooms/{room}/events");
    assert_error(
        app.get(&events, Some(&alice)).await,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;

    let (ok, said, _) = role(&app, "grant", "ALICE").await;
    assert!(ok);
    assert_eq!(said.trim(), "ALICE is now auditor");
    assert_eq!(
        app.get(&events, Some(&alice)).await.status(),
        StatusCode::OK
    );
    let (ok, said, _) = role(&app, "grant", "alice").await;
    assert!(ok && said.contains("already"), "{said}");
    app.eventually("SELECT count(*) FROM user_roles WHERE role = 'auditor'", 1)
        .await;

    let read_trail = app
        .get_json("/audit/reads?after_position=0", Some(&alice))
        .await;
    assert_eq!(
        trail(&read_trail),
        [
            ("RoleGranted".to_owned(), "auditor".to_owned()),
            ("AuditLogRead".to_owned(), events.clone()),
            (
                "AuditLogRead".to_owned(),
                "/audit/reads?after_position=0".to_owned()
            ),
        ]
    );
    let alice_id = read_trail[0]["aggregate_id"].clone();
    assert!(read_trail
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["aggregate_id"] == alice_id));
    let last = read_trail[2]["position"].as_i64().unwrap();

    let (ok, said, _) = role(&app, "revoke", "alice").await;
    assert!(ok);
    assert_eq!(said.trim(), "alice is no longer auditor");
    assert_error(
        app.get(&events, Some(&alice)).await,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    let reads = app
        .get(&format!("/audit/reads?after_position={last}"), Some(&alice))
        .await;
    assert_error(reads, StatusCode::FORBIDDEN, None).await;
    app.eventually("SELECT count(*) FROM user_roles", 0).await;

    // Another auditor sees the revocation after the reads, and refused reads are not on record.
    let bob = app.user("bob").await;
    assert!(role(&app, "grant", "bob").await.0);
    let later = app
        .get_json(&format!("/audit/reads?after_position={last}"), Some(&bob))
        .await;
    assert_eq!(
        trail(&later),
        [
            ("RoleRevoked".to_owned(), "auditor".to_owned()),
            ("RoleGranted".to_owned(), "auditor".to_owned()),
            (
                "AuditLogRead".to_owned(),
                format!("/audit/reads?after_position={last}")
            ),
        ]
    );
}

#[tokio::test]
async fn granting_a_role_to_a_name_nobody_registered_fails_and_records_nothing() {
    let app = spawn_app().await;
    let events = app.event_count().await;
    let (ok, _, stderr) = role(&app, "grant", "ghost").await;
    assert!(!ok);
    assert!(
        stderr.contains("no user is registered as \"ghost\""),
        "{stderr}"
    );
    let (ok, _, stderr) = role(&app, "grant", "not a name!").await;
    assert!(!ok, "{stderr}");
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn a_server_still_given_chat_auditors_refuses_to_start_and_says_how_auditors_are_made_now() {
    let env = [
        ("CHAT_JWT_SECRET", testkit::JWT_SECRET),
        ("CHAT_AUDITORS", "alice"),
    ];
    let (status, stderr) = run_to_exit(&["all"], &env).await;
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("CHAT_AUDITORS"), "{stderr}");
    assert!(stderr.contains("chat role grant auditor"), "{stderr}");
}
