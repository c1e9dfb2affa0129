//! Behind a reverse proxy every connection comes from the proxy: the client is the address the
//! proxy forwards, believed only from a proxy we trust, so one attacker cannot lock everyone
//! out, nor pick the address he is counted under. A user's own logins never use up their name.

use reqwest::StatusCode;

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};

impl TestApp {
    /// A login forwarded by a proxy for `forwarded_for` (an `X-Forwarded-For` value).
    async fn login_from(&self, forwarded_for: &str, username: &str, password: &str) -> StatusCode {
        self.client
            .post(self.url("/auth/login"))
            .header("x-forwarded-for", forwarded_for)
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap()
            .status()
    }
}

const LIMITED: [&str; 4] = [
    "--login-rate",
    "3",
    "--trusted-proxies",
    "127.0.0.1,10.0.0.0/8",
];

#[tokio::test]
async fn two_clients_behind_a_trusted_proxy_are_limited_apart_and_a_forged_left_most_entry_changes_nothing(
) {
    let app = spawn_app_with(&LIMITED).await;
    for _ in 0..3 {
        let status = app
            .login_from("203.0.113.7", "mallory", "guess guess")
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.login_from("203.0.113.7", "eve", "guess guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The client writes what stands left of the proxy's entry: forging it changes nothing.
    for forged in [
        "1.2.3.4, 203.0.113.7",
        "198.51.100.1, 203.0.113.7, 10.0.0.9",
    ] {
        assert_eq!(
            app.login_from(forged, "eve", "guess guess").await,
            StatusCode::TOO_MANY_REQUESTS,
            "{forged}"
        );
    }
    // Another client behind the same proxy is counted apart.
    assert_eq!(
        app.login_from("203.0.113.8", "eve", "guess guess").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_untrusted_peer_is_counted_under_its_own_address_whatever_it_forwards() {
    let app = spawn_app_with(&["--login-rate", "3"]).await;
    for forwarded in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        app.login_from(forwarded, "mallory", "guess guess").await;
    }
    assert_eq!(
        app.login_from("203.0.113.4", "eve", "guess guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn an_ipv6_client_is_limited_per_64() {
    let app = spawn_app_with(&LIMITED).await;
    for host in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"] {
        app.login_from(host, "mallory", "guess guess").await;
    }
    assert_eq!(
        app.login_from("2001:db8:1:2::4", "eve", "guess guess")
            .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        app.login_from("2001:db8:1:3::1", "eve", "guess guess")
            .await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_attacker_past_his_address_limit_no_longer_charges_the_names_he_tries() {
    let app = spawn_app_with(&LIMITED).await;
    assert_eq!(app.register("alice").await.status(), StatusCode::OK);
    for _ in 0..3 {
        app.login_from("203.0.113.66", "carol", "guess guess").await;
    }
    for _ in 0..10 {
        let status = app.login_from("203.0.113.66", "alice", "guess guess").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    // Alice, elsewhere, has her whole allowance of failures left.
    for _ in 0..2 {
        let status = app.login_from("198.51.100.5", "alice", "typo typo").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.login_from("198.51.100.6", "alice", PASSWORD).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_users_successful_logins_never_use_up_their_name() {
    let app = spawn_app_with(&LIMITED).await;
    assert_eq!(app.register("alice").await.status(), StatusCode::OK);
    for device in 1..=8 {
        let status = app
            .login_from(&format!("198.51.100.{device}"), "alice", PASSWORD)
            .await;
        assert_eq!(status, StatusCode::OK, "login {device}");
    }
    // Failures do: three wrong passwords, from anywhere, and the name waits.
    for attacker in 1..=3 {
        app.login_from(&format!("203.0.113.{attacker}"), "alice", "guess guess")
            .await;
    }
    assert_eq!(
        app.login_from("198.51.100.99", "alice", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_trusted_proxy_list_that_is_no_list_of_addresses_stops_the_server() {
    let (status, stderr) = crate::processes::run_to_exit(
        &["all"],
        &[
            ("CHAT_JWT_SECRET", testkit::JWT_SECRET),
            ("CHAT_TRUSTED_PROXIES", "caddy"),
        ],
    )
    .await;
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("CHAT_TRUSTED_PROXIES"), "{stderr}");
}

#[tokio::test]
async fn sockets_behind_a_trusted_proxy_are_capped_per_forwarded_address() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let app = spawn_app_with(&[
        "--trusted-proxies",
        "127.0.0.1",
        "--ws-max-per-address",
        "1",
    ])
    .await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let url = app.ws_url(&room, &format!("token={alice}"));
    let open = |forwarded_for: &'static str| {
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("x-forwarded-for", forwarded_for.parse().unwrap());
        let url = url.clone();
        async move {
            let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
            crate::sockets::Socket::from_stream(stream, &url)
        }
    };
    let mut first = open("203.0.113.7").await;
    first.ready(false).await;
    let mut other_client = open("203.0.113.8").await;
    other_client.ready(false).await;
    let mut same_client = open("203.0.113.7").await;
    let (code, reason) = same_client.close_frame().await;
    assert_eq!(code, 1013);
    assert!(reason.contains("per-address"), "{reason}");
}
