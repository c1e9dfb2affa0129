//! Shared by the integration tests: a fresh database per test, a bus prefix per test, and a TCP
//! proxy the test controls, so a broker outage can be staged without touching the shared broker.

mod proxy;
pub mod seed;

pub use proxy::TcpProxy;

use sqlx::PgPool;
use uuid::Uuid;

pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// The signing key of every test's `chat`: as long as a real one must be.
pub const JWT_SECRET: &str = "test-secret-long-enough-for-hs256";

/// The flags a test's `chat` runs with, after its role and `--database-url`: a fixed signing
/// key, the cheapest bcrypt cost, and no rate limits, so stories may log in and post at will;
/// and small pools (16 connections in all, with the relay's), since parallel tests share the
/// 100 connections PostgreSQL allows.
pub const CHAT_FLAGS: [&str; 16] = [
    "--jwt-secret",
    JWT_SECRET,
    "--bcrypt-cost",
    "4",
    "--login-rate",
    "0",
    "--send-rate",
    "0",
    "--db-pool-commands",
    "4",
    "--db-pool-queries",
    "4",
    "--db-pool-projector",
    "2",
    "--db-pool-fanout",
    "4",
];

/// A database no other test uses, migrated; answers its URL and a small pool on it.
pub async fn fresh_database() -> (String, PgPool) {
    let name = format!("chat_test_{}", Uuid::new_v4().simple());
    let admin = PgPool::connect(ADMIN_URL).await.expect("connect as admin");
    sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
        .execute(&admin)
        .await
        .expect("create test database");
    admin.close().await;
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable");
    let pool = eventstore::connect(&url, 8).await.expect("connect");
    eventstore::MIGRATOR.run(&pool).await.expect("migrate");
    (url, pool)
}

/// One number from the database, e.g. `SELECT count(*) FROM messages`.
/// An empty answer, or NULL, counts as 0.
pub async fn count(pool: &PgPool, query: &str) -> i64 {
    sqlx::query_scalar::<_, Option<i64>>(query)
        .fetch_optional(pool)
        .await
        .unwrap()
        .flatten()
        .unwrap_or(0)
}

/// The sequences stored for one aggregate, in order.
pub async fn sequences(pool: &PgPool, aggregate_id: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT sequence FROM events WHERE aggregate_id = $1 ORDER BY sequence")
        .bind(aggregate_id)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Waits (up to 30 s) until `query` answers `expected`, and asserts it did.
pub async fn eventually(pool: &PgPool, query: &str, expected: i64) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let value = count(pool, query).await;
        if value == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "`{query}` stayed at {value}, expected {expected}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A bus prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("chat_test_{}", Uuid::new_v4().simple())
}

/// The AMQP URL of the local broker reached through `proxy`.
pub fn amqp_url_through(proxy: &TcpProxy) -> String {
    format!("amqp://guest:guest@{}/%2f", proxy.address())
}

/// Deletes a test's exchanges and queues from the shared broker when dropped (a failing test
/// unwinds through it too), so test runs leave nothing behind.
pub struct BusCleanup(pub bus::BusConfig);

impl Drop for BusCleanup {
    fn drop(&mut self) {
        let config = self.0.clone();
        // Drop cannot await; a thread with a runtime of its own can, even inside a test's.
        let cleaned = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(bus::Topology::delete(&config))
        })
        .join();
        if let Ok(Err(error)) = cleaned {
            eprintln!("could not delete the test's exchanges and queues: {error}");
        }
    }
}
