//! The receiver `docs/integrations.md` gives integrators, run as it is printed there: it takes
//! every event the server delivers, in order, and refuses whatever is not signed with the
//! webhook's secret, stale, or malformed.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::spawn_app_with;
use crate::webhooks::{create_webhook, key_of, wait_for, FAST_RETRIES};

const GUIDE: &str = include_str!("../../../docs/integrations.md");

/// The guide's Python block that verifies signatures: the one the test runs is the one readers
/// copy, so the two cannot drift apart.
fn documented_receiver() -> &'static str {
    GUIDE
        .split("```python\n")
        .skip(1)
        .map(|block| block.split("```").next().expect("a closed block"))
        .find(|block| block.contains("webhook-signature"))
        .expect("docs/integrations.md has a Python receiver that reads webhook-signature")
}

/// The documented receiver running under `python3`, and what it printed so far.
struct PythonReceiver {
    _process: Child,
    printed: Arc<Mutex<Vec<String>>>,
}

impl PythonReceiver {
    async fn start(port: u16, secret: &str) -> Self {
        let mut process = Command::new("python3")
            .args(["-c", documented_receiver()])
            .env("WEBHOOK_SECRET", secret)
            .env("PORT", port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("run python3");
        let printed: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut lines = BufReader::new(process.stdout.take().expect("piped stdout")).lines();
        let gathered = Arc::clone(&printed);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                gathered.lock().unwrap().push(line);
            }
        });
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self {
                    _process: process,
                    printed,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the documented receiver never listened on {port}");
    }

    /// `(webhook-id, sequence)` of each event it took, in the order it took them.
    fn verified(&self) -> Vec<(String, i64)> {
        self.printed
            .lock()
            .unwrap()
            .iter()
            .map(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                assert_eq!(fields[0], "verified", "{line}");
                (fields[1].to_owned(), fields[2].parse().unwrap())
            })
            .collect()
    }
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("its address").port()
}

#[tokio::test]
async fn the_documented_receiver_takes_every_signed_delivery_in_order_and_refuses_forgeries() {
    assert!(
        which_python(),
        "python3 must be installed to run the documented receiver"
    );
    let mut flags = vec!["--webhook-allow", "127.0.0.1"];
    flags.extend_from_slice(&FAST_RETRIES);
    let app = spawn_app_with(&flags).await;
    let owner = app.user("pyowner").await;
    let room_id = app.room(&owner, "python", None).await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let created = create_webhook(&app, &owner, &room_id, &json!({"url": url})).await;
    let secret = created["secret"].as_str().unwrap();
    let webhook_id = created["id"].as_str().unwrap();
    let receiver = PythonReceiver::start(port, secret).await;

    for n in 0..4 {
        let posted = app.post_message(&owner, &room_id, &format!("m{n}")).await;
        assert_eq!(posted.status(), StatusCode::CREATED);
    }
    let listed = wait_for(&app, &owner, &room_id, webhook_id, |listed| {
        listed.len() == 4 && listed.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    for delivery in &listed {
        assert_eq!(delivery["attempts"], 1, "taken at the first attempt");
        assert_eq!(delivery["attempt_log"][0]["status_code"], 204);
    }
    let ids: Vec<&str> = listed.iter().map(|d| d["id"].as_str().unwrap()).collect();
    let verified = receiver.verified();
    assert_eq!(
        verified.iter().map(|(_, seq)| *seq).collect::<Vec<_>>(),
        vec![3, 4, 5, 6],
        "the four messages, in the room's order"
    );
    assert_eq!(
        verified
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>(),
        ids,
        "under the ids the server lists"
    );

    // Requests the server never sent: each refused, none taken.
    let key = key_of(secret);
    let now = chrono::Utc::now().timestamp();
    let body = json!({"sequence": 99, "event_type": "MessagePosted"}).to_string();
    let sign =
        |id: &str, at: i64, body: &str| webhooks::signature::sign(&key, id, at, body.as_bytes());
    let other_key = [7u8; 32];
    let tampered = body.replace("99", "98");
    let forged = [
        (
            "tampered body",
            "forged-1",
            now.to_string(),
            sign("forged-1", now, &body),
            tampered.clone(),
        ),
        (
            "another id",
            "forged-2",
            now.to_string(),
            sign("forged-x", now, &body),
            body.clone(),
        ),
        (
            "another time",
            "forged-3",
            (now + 1).to_string(),
            sign("forged-3", now, &body),
            body.clone(),
        ),
        (
            "stale",
            "forged-4",
            (now - 600).to_string(),
            sign("forged-4", now - 600, &body),
            body.clone(),
        ),
        (
            "another secret",
            "forged-5",
            now.to_string(),
            webhooks::signature::sign(&other_key, "forged-5", now, body.as_bytes()),
            body.clone(),
        ),
        (
            "no v1 prefix",
            "forged-6",
            now.to_string(),
            sign("forged-6", now, &body).replace("v1,", "v2,"),
            body.clone(),
        ),
        (
            "empty signature",
            "forged-7",
            now.to_string(),
            String::new(),
            body.clone(),
        ),
    ];
    for (why, id, at, signature, sent) in &forged {
        let status = post(
            port,
            &[
                ("webhook-id", id),
                ("webhook-timestamp", at),
                ("webhook-signature", signature),
            ],
            sent,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}");
    }
    for (why, headers) in [
        (
            "no signature",
            vec![("webhook-id", "forged-8"), ("webhook-timestamp", "1")],
        ),
        (
            "no timestamp",
            vec![("webhook-id", "forged-9"), ("webhook-signature", "v1,AAAA")],
        ),
        (
            "a timestamp not a number",
            vec![
                ("webhook-id", "forged-10"),
                ("webhook-timestamp", "soon"),
                ("webhook-signature", "v1,AAAA"),
            ],
        ),
    ] {
        assert_eq!(
            post(port, &headers, &body).await,
            StatusCode::BAD_REQUEST,
            "{why}"
        );
    }
    // One correctly signed, sent twice: taken, and acted on once.
    let genuine = sign("genuine", now, &body);
    let headers = [
        ("webhook-id", "genuine"),
        ("webhook-timestamp", &*now.to_string()),
        ("webhook-signature", &*format!("v1,AAAA {genuine}")),
    ];
    for _ in 0..2 {
        assert_eq!(post(port, &headers, &body).await, StatusCode::NO_CONTENT);
    }
    let verified = receiver.verified();
    assert_eq!(verified.len(), 5, "{verified:?}");
    assert_eq!(verified[4], ("genuine".to_owned(), 99));
}

fn which_python() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

async fn post(port: u16, headers: &[(&str, &str)], body: &str) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/hook"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the receiver answers").status()
}
