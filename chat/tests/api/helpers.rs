//! Starts the real `chat all` application in-process on a random port, against a database of
//! its own on the local PostgreSQL.

use std::future::Future;

use chat::{build_app, serve, Cli, Roles};
use clap::Parser;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    pub database_url: String,
}

/// A fresh database, migrated, with the app serving on it.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Like [`spawn_app`], with extra command-line flags (e.g. `["--login-rate", "2"]`).
pub async fn spawn_app_with(flags: &[&str]) -> TestApp {
    let database_url = create_database().await;
    spawn_app_on(&database_url, flags).await
}

/// Another app on an existing database: a second process of the same deployment.
pub async fn spawn_app_on(database_url: &str, flags: &[&str]) -> TestApp {
    let mut args = vec![
        "chat",
        "all",
        "--database-url",
        database_url,
        "--jwt-secret",
        "test-secret",
        "--bcrypt-cost",
        "4",
        "--login-rate",
        "0",
        "--send-rate",
        "0",
        "--web-dir",
        "/nonexistent",
    ];
    args.extend_from_slice(flags);
    let settings = Cli::parse_from(args).settings;
    let pool = settings.connect().await.expect("connect");
    eventstore::MIGRATOR.run(&pool).await.expect("migrate");
    let app = build_app(pool.clone(), &settings, Roles::ALL).expect("build app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, app, std::future::pending()));
    TestApp {
        address,
        client: reqwest::Client::new(),
        pool,
        database_url: database_url.to_owned(),
    }
}

async fn create_database() -> String {
    let name = format!("chat_test_{}", Uuid::new_v4().simple());
    let admin = PgPool::connect(ADMIN_URL).await.expect("connect as admin");
    sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
        .execute(&admin)
        .await
        .expect("create test database");
    admin.close().await;
    format!("postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable")
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
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// The sequences stored for one aggregate, in order.
    pub async fn sequences(&self, aggregate_id: &str) -> Vec<i64> {
        sqlx::query_scalar("SELECT sequence FROM events WHERE aggregate_id = $1 ORDER BY sequence")
            .bind(aggregate_id)
            .fetch_all(&self.pool)
            .await
            .unwrap()
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
