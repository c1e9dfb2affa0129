//! An operator who sets a guessable signing key or lets every origin call the API is stopped at
//! once, told which setting is wrong, with exit code 2: never a server running unsafely, never a
//! panic.

use crate::processes::run_to_exit;

const GOOD_SECRET: (&str, &str) = ("CHAT_JWT_SECRET", testkit::JWT_SECRET);

#[tokio::test]
async fn a_signing_key_shorter_than_32_bytes_stops_the_server_naming_the_variable() {
    for secret in ["secret", &"s".repeat(31)] {
        let (status, stderr) = run_to_exit(&["all"], &[("CHAT_JWT_SECRET", secret)]).await;
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("CHAT_JWT_SECRET"), "{stderr}");
        assert!(stderr.contains("32"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[tokio::test]
async fn a_missing_signing_key_stops_every_http_role_naming_the_variable() {
    for role in ["all", "command-api", "query-api", "fanout"] {
        let (status, stderr) = run_to_exit(&[role], &[]).await;
        assert_eq!(status.code(), Some(2), "{role}: {stderr}");
        assert!(stderr.contains("CHAT_JWT_SECRET"), "{role}: {stderr}");
    }
}

#[tokio::test]
async fn a_wildcard_cors_origin_is_a_configuration_error_not_a_panic() {
    for origins in ["*", "https://a.example,*", "https://*.example"] {
        let env = [GOOD_SECRET, ("CHAT_CORS_ORIGINS", origins)];
        let (status, stderr) = run_to_exit(&["all"], &env).await;
        assert_eq!(status.code(), Some(2), "{origins}: {stderr}");
        assert!(stderr.contains("CHAT_CORS_ORIGINS"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Settings clap checks are named by their flag (`--webhook-dispatchers`), the others by
/// their variable; either tells the operator which one to fix.
#[tokio::test]
async fn webhook_delivery_settings_that_cannot_work_stop_the_projector_naming_the_setting() {
    for (variable, flag, value) in [
        (
            "CHAT_WEBHOOK_POLL_INTERVAL",
            "--webhook-poll-interval",
            "0s",
        ),
        (
            "CHAT_WEBHOOK_POLL_INTERVAL",
            "--webhook-poll-interval",
            "1ms",
        ),
        ("CHAT_WEBHOOK_RETRY_FIRST", "--webhook-retry-first", "0s"),
        ("CHAT_WEBHOOK_DISPATCHERS", "--webhook-dispatchers", "0"),
        ("CHAT_WEBHOOK_DISPATCHERS", "--webhook-dispatchers", "257"),
    ] {
        let env = [GOOD_SECRET, (variable, value)];
        let (status, stderr) = run_to_exit(&["projector"], &env).await;
        assert_eq!(status.code(), Some(2), "{variable}={value}: {stderr}");
        assert!(
            stderr.contains(variable) || stderr.contains(flag),
            "{variable}={value}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
