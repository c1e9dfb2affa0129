//! The scenario's own database and bus prefix.

use std::time::{Duration, Instant};

use anyhow::Context;
use bus::BusConfig;
use sqlx::PgPool;
use testkit::{ADMIN_URL, AMQP_URL};
use uuid::Uuid;

/// A database and a bus prefix of the scenario's own, removed afterwards.
pub(super) struct BenchDb {
    name: String,
    pub(super) pool: PgPool,
    pub(super) bus: BusConfig,
}

impl BenchDb {
    pub(super) async fn create() -> anyhow::Result<Self> {
        let name = format!("chat_bench_{}", Uuid::new_v4().simple());
        let admin = PgPool::connect(ADMIN_URL).await?;
        sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&admin)
            .await?;
        admin.close().await;
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable");
        let pool = eventstore::connect(&url, 16).await?;
        eventstore::MIGRATOR.run(&pool).await?;
        Ok(Self {
            bus: BusConfig::new(AMQP_URL, name.clone()),
            name,
            pool,
        })
    }

    /// Waits until the checkpoints account for `events` events.
    pub(super) async fn projected(&self, events: i64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let applied: i64 = sqlx::query_scalar(
                "SELECT coalesce(sum(last_seq), 0)::bigint FROM projection_checkpoints",
            )
            .fetch_one(&self.pool)
            .await?;
            if applied >= events {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "projection stalled at {applied}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub(super) async fn drop(self) -> anyhow::Result<()> {
        self.pool.close().await;
        bus::Topology::delete(&self.bus)
            .await
            .context("deleting the bus topology")?;
        let admin = PgPool::connect(ADMIN_URL).await?;
        sqlx::query(&format!(r#"DROP DATABASE "{}" WITH (FORCE)"#, self.name))
            .execute(&admin)
            .await?;
        Ok(())
    }
}
