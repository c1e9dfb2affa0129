//! A container's healthcheck runs `chat probe URL` (the image has no curl): exit status 0 only
//! for a 2xx answer, 1 for any other answer, none in time, or no URL it can use.

use std::process::Output;
use std::time::{Duration, Instant};

use testkit::{amqp_url_through, TcpProxy};

use crate::processes::Deployment;

async fn probe(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat"))
        .arg("probe")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .await
        .expect("run chat probe");
    (output, started.elapsed())
}

fn said(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn a_ready_role_passes_and_one_whose_broker_is_cut_off_fails_with_the_reason() {
    let proxy = TcpProxy::start("127.0.0.1:5672").await;
    let deployment = Deployment::new().await;
    let fanout = deployment
        .start("fanout", &[("AMQP_URL", &amqp_url_through(&proxy))])
        .await;
    let readyz = fanout.app.url("/readyz");

    let (output, _) = probe(&[&readyz]).await;
    assert_eq!(output.status.code(), Some(0), "{}", said(&output));

    proxy.cut();
    fanout
        .app
        .readiness_becomes(reqwest::StatusCode::SERVICE_UNAVAILABLE)
        .await;
    let (output, _) = probe(&[&readyz]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(said(&output).contains("503"), "{}", said(&output));
    assert!(said(&output).contains("broker"), "{}", said(&output));
}

#[tokio::test]
async fn any_answer_but_a_2xx_fails() {
    let deployment = Deployment::new().await;
    let query_api = deployment.start("query-api", &[]).await;
    let (output, _) = probe(&[&query_api
        .app
        .url("/rooms/00000000-0000-0000-0000-000000000000")])
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(said(&output).contains("404"), "{}", said(&output));
}

#[tokio::test]
async fn a_server_that_never_answers_fails_within_the_timeout() {
    // Accepts connections and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/readyz", silent.local_addr().unwrap());
    let holding = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = silent.accept().await {
            held.push(connection);
        }
    });

    let (output, took) = probe(&["--timeout", "500ms", &url]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    holding.abort();
}

#[tokio::test]
async fn nothing_listening_or_no_usable_url_fails() {
    let closed = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    for url in [
        format!("http://{closed}/readyz"),
        "not a url".to_owned(),
        "https://127.0.0.1:1/readyz".to_owned(),
        "ftp://127.0.0.1/readyz".to_owned(),
        String::new(),
        format!("http://{}/", "a".repeat(70_000)),
    ] {
        let (output, took) = probe(&[&url]).await;
        assert_eq!(
            output.status.code(),
            Some(1),
            "{url:.80}: {}",
            said(&output)
        );
        assert!(took < Duration::from_secs(5), "{url:.80} took {took:?}");
    }
}
