//! Starts the real `chat all` application in-process on a random port, against a database of
//! its own on the local PostgreSQL and a bus prefix of its own (the database's name) on the
//! local RabbitMQ, with its relay and projector.

use std::future::Future;

use base64::Engine;
use chat::{build_app, serve, spawn_workers, Cli, Lifecycle, Ops, Roles};
use clap::Parser;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use testkit::BusCleanup;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    pub database_url: String,
    /// Its relay and projector, stopped with it.
    _workers: Workers,
    /// Set on the app that made the database: it removes the bus's queues at the end.
    _bus: Option<BusCleanup>,
}

/// A fresh database, migrated, with the app serving on it.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Like [`spawn_app`], with extra command-line flags (e.g. `["--login-rate", "2"]`).
pub async fn spawn_app_with(flags: &[&str]) -> TestApp {
    spawn_role_with("all", flags).await
}

/// A fresh database with one HTTP role serving on it (`all` or `command-api`).
pub async fn spawn_role_with(role: &str, flags: &[&str]) -> TestApp {
    // The app migrates the database itself, as a process of it does at start.
    let (database_url, _) = testkit::fresh_database().await;
    let mut app = spawn_role_on(&database_url, role, flags).await;
    let bus = cli(&database_url, role, flags)
        .settings
        .bus()
        .expect("bus settings");
    // Straight to the broker: a test's proxy cannot forward while a drop blocks its runtime.
    app._bus = Some(BusCleanup(bus::BusConfig {
        amqp_url: testkit::AMQP_URL.to_owned(),
        ..bus
    }));
    app
}

/// Another app on an existing database: a second process of the same deployment.
pub async fn spawn_app_on(database_url: &str, flags: &[&str]) -> TestApp {
    spawn_role_on(database_url, "all", flags).await
}

/// A client of a `chat` started elsewhere (e.g. as a process of its own) serving at `address`
/// on `database_url`, looking at the database through `pool`.
pub fn client_of(address: String, pool: &PgPool, database_url: &str) -> TestApp {
    TestApp {
        address,
        client: reqwest::Client::new(),
        pool: pool.clone(),
        database_url: database_url.to_owned(),
        _workers: Workers {
            shutdown: CancellationToken::new(),
            _handles: Vec::new(),
        },
        _bus: None,
    }
}

impl TestApp {
    /// Stops the app as a signal stops the process: workers, sockets, then HTTP.
    pub fn stop(&self) {
        self._workers.shutdown.cancel();
    }
}

/// The background work of a process running `role`, stopped when dropped.
pub struct Workers {
    shutdown: CancellationToken,
    _handles: Vec<JoinHandle<()>>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts what `chat <role>` runs in the background (`projector`, or the relay of
/// `command-api`) on an existing database.
pub async fn start_workers(database_url: &str, role: &str, flags: &[&str]) -> Workers {
    let cli = cli(database_url, role, flags);
    let pools = cli.settings.pools().expect("pools");
    let shutdown = CancellationToken::new();
    let roles = Roles::of(&cli.command);
    let ops = Ops::new(roles, &pools, &cli.settings).expect("ops");
    let handles = spawn_workers(roles, &pools, &cli.settings, &ops, &shutdown).expect("workers");
    Workers {
        shutdown,
        _handles: handles,
    }
}

async fn spawn_role_on(database_url: &str, role: &str, flags: &[&str]) -> TestApp {
    let cli = cli(database_url, role, flags);
    let settings = cli.settings;
    let pool = settings.connect().await.expect("connect");
    eventstore::MIGRATOR.run(&pool).await.expect("migrate");
    let pools = settings.pools().expect("pools");
    let lifecycle = Lifecycle::default();
    let shutdown = lifecycle.shutdown.clone();
    let roles = Roles::of(&cli.command);
    let ops = Ops::new(roles, &pools, &settings).expect("ops");
    let handles = spawn_workers(roles, &pools, &settings, &ops, &shutdown).expect("workers");
    let app = build_app(&pools, &settings, roles, &lifecycle, &ops)
        .await
        .expect("build app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, app, shutdown.clone().cancelled_owned()));
    TestApp {
        address,
        client: reqwest::Client::new(),
        pool,
        database_url: database_url.to_owned(),
        _workers: Workers {
            shutdown,
            _handles: handles,
        },
        _bus: None,
    }
}

fn cli(database_url: &str, role: &str, flags: &[&str]) -> Cli {
    let mut args = vec!["chat", role, "--database-url", database_url];
    args.extend_from_slice(&testkit::CHAT_FLAGS);
    args.extend_from_slice(&["--web-dir", "/nonexistent"]);
    args.extend_from_slice(flags);
    Cli::parse_from(args)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Builds the request at once, so the future borrows nothing and can be collected for
    /// concurrent sending.
    pub fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> impl Future<Output = Response> + 'static {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.expect("request") }
    }

    /// `GET path`, as the holder of `token` when one is given; the answer as it came.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// `method path` as the holder of `token`, with a JSON body or none; the answer as it came.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// `GET path` (as [`TestApp::get`]), which must answer 200 with a JSON body; answers the body.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        let response = self.get(path, token).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("a JSON body")
    }

    pub fn register(&self, username: &str) -> impl Future<Output = Response> + 'static {
        self.post_json(
            "/auth/register",
            None,
            &json!({"username": username, "password": PASSWORD}),
        )
    }

    /// Logs in with a form, as the seed's client does.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        let body =
            serde_urlencoded::to_string([("username", username), ("password", password)]).unwrap();
        self.client
            .post(self.url("/auth/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// Registers `username` and answers its access token.
    pub async fn user(&self, username: &str) -> String {
        assert_eq!(self.register(username).await.status(), StatusCode::OK);
        let response = self.login(username, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a room as the holder of `token` and answers its id.
    pub async fn room(&self, token: &str, name: &str, password: Option<&str>) -> String {
        let body = json!({"name": name, "is_private": password.is_some(), "password": password});
        let response = self.post_json("/rooms/", Some(token), &body).await;
        assert_eq!(response.status(), StatusCode::OK);
        let room: Value = response.json().await.unwrap();
        room["id"].as_str().unwrap().to_owned()
    }

    pub fn post_message(
        &self,
        token: &str,
        room_id: &str,
        content: &str,
    ) -> impl Future<Output = Response> + 'static {
        self.post_json(
            &format!("/rooms/{room_id}/messages"),
            Some(token),
            &json!({"content": content}),
        )
    }

    pub async fn event_count(&self) -> i64 {
        self.count("SELECT count(*) FROM events").await
    }

    /// One number from the database; an empty answer, or NULL, counts as 0.
    pub async fn count(&self, query: &str) -> i64 {
        testkit::count(&self.pool, query).await
    }

    /// Waits (up to 30 s) until `query` answers `expected`, and asserts it did.
    pub async fn eventually(&self, query: &str, expected: i64) {
        testkit::eventually(&self.pool, query, expected).await
    }

    /// The sequences stored for one aggregate, in order.
    pub async fn sequences(&self, aggregate_id: &str) -> Vec<i64> {
        testkit::sequences(&self.pool, aggregate_id).await
    }
}

/// Asserts the answer's status and error body, and answers the body.
pub async fn assert_error(response: Response, status: StatusCode, detail: Option<&str>) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("a JSON error body");
    assert!(body["code"].is_string(), "no code in {body}");
    if let Some(detail) = detail {
        assert_eq!(body["detail"], detail);
    }
    body
}

/// The claims of an access token, read without checking its signature.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
