//! S5: the projector's live throughput and lag (commit → row visible), and `chat rebuild` of a
//! million events; each beside a raw scan of the events table in position order, measured on
//! the same database in the same run.
//!
//! The system runs in this process (relay, RabbitMQ, projector, as `chat all` runs them) on a
//! database of its own. Events are written straight into the store, as the command executor
//! writes them, so the load measures the projection and not the HTTP write path.

mod database;
mod live;
mod rebuild;
mod rooms;

use std::time::{Duration, Instant};

use bus::EventEnvelope;
use futures::TryStreamExt;
use sqlx::PgPool;

use crate::{ScenarioReport, Usage};

/// Runs both halves, each with what this process used meanwhile (it runs the system under
/// test); `quick` shrinks them tenfold.
pub async fn run(quick: bool) -> anyhow::Result<Vec<ScenarioReport>> {
    let scale = if quick { 10 } else { 1 };
    let before = Usage::of_this_process()?;
    let mut live = live::run(scale).await?;
    let between = Usage::of_this_process()?;
    live.add_usage(
        "this process (writers, relay, projector)",
        between.since(before),
    );
    let mut rebuild = rebuild::run(scale).await?;
    rebuild.add_usage(
        "this process (seeding, rebuild)",
        Usage::of_this_process()?.since(between),
    );
    Ok(vec![live, rebuild])
}

/// The machine's 1-minute load average: on a shared 2-core machine it explains much.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|load| load.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// A raw scan of the events table in global order, decoded as the rebuild decodes it.
async fn raw_scan(pool: &PgPool) -> anyhow::Result<(u64, Duration)> {
    let started = Instant::now();
    let mut rows = sqlx::query_as::<_, EventEnvelope>(SCAN).fetch(pool);
    let mut count = 0u64;
    while rows.try_next().await?.is_some() {
        count += 1;
    }
    Ok((count, started.elapsed()))
}

const SCAN: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM events ORDER BY position";
