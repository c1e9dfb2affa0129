//! S2's baseline: the bare cost of a durable write, a single-row `INSERT ... COMMIT` loop
//! against the same database, from this process.

use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;

use super::Run;

pub(super) const CREATE_BASELINE: &str = "
CREATE TABLE IF NOT EXISTS bench_baseline
(
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload text NOT NULL
)";

const INSERT_BASELINE: &str = "INSERT INTO bench_baseline (payload) VALUES ($1)";

/// The bare cost of a durable write: one single-row INSERT per transaction, `concurrency` of them
/// at a time, each on its own connection.
pub(super) async fn insert_loop(
    database_url: &str,
    concurrency: usize,
    length: Duration,
) -> anyhow::Result<Run> {
    let pool = PgPoolOptions::new()
        .max_connections(concurrency as u32)
        .connect(database_url)
        .await?;
    let deadline = Instant::now() + length;
    let payload = "x".repeat(200);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let pool = pool.clone();
            let payload = payload.clone();
            tokio::spawn(async move {
                let mut connection = pool.acquire().await?;
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    sqlx::query(INSERT_BASELINE)
                        .bind(&payload)
                        .execute(&mut *connection)
                        .await?;
                    latencies.push(sent.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let run = Run::joined(workers, started).await?;
    pool.close().await;
    Ok(run)
}
