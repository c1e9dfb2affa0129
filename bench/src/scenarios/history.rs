//! S6: a history page of 50 at any cursor depth in a room of 1,000,000 messages.
//!
//! The room's messages are written straight into the read table (the projection's output) with
//! `generate_series`: this scenario measures the read path, and pushing a million messages
//! through the write path first would only make it slow to set up. The baseline is the bare
//! indexed query the endpoint runs, sent from this process to the same database.

use std::time::{Duration, Instant};

use anyhow::Context;
use rand::Rng;
use sqlx::PgPool;

use crate::report::percentiles;
use crate::{Figure, Goal, ScenarioReport, Target};

const SEED_MESSAGES: &str = "
INSERT INTO messages (room_id, seq, id, user_id, username, content, client_msg_id, created_at)
SELECT $1, seq, gen_random_uuid(), $2, 'bench', 'message number ' || seq, NULL,
       now() - make_interval(secs => $3 - seq)
  FROM generate_series($4::bigint, $5::bigint) AS seq";

const BARE_PAGE: &str = "
SELECT id, seq, room_id, user_id, username, content, client_msg_id, created_at
  FROM messages
 WHERE room_id = $1 AND seq < $2
 ORDER BY seq DESC
 LIMIT 50";

pub async fn run(target: &Target, quick: bool) -> anyhow::Result<ScenarioReport> {
    let (messages, pages) = if quick {
        (100_000_i64, 300)
    } else {
        (1_000_000_i64, 3_000)
    };
    let http = reqwest::Client::new();
    let token = super::user(&http, target, "reader").await?;
    let room = super::room(&http, target, &token, "deep history").await?;
    let room_id: uuid::Uuid = room.parse()?;
    let pool = PgPool::connect(&target.database_url).await?;
    seed(&pool, room_id, messages).await?;

    let depths: Vec<i64> = {
        let mut rng = rand::rng();
        (0..pages)
            .map(|_| rng.random_range(51..=messages))
            .collect()
    };

    let bar = super::progress(pages as u64, "S6 baseline (SQL)");
    let mut bare = Vec::with_capacity(pages);
    for &depth in &depths {
        let started = Instant::now();
        let rows = sqlx::query(BARE_PAGE)
            .bind(room_id)
            .bind(depth)
            .fetch_all(&pool)
            .await?;
        bare.push(started.elapsed());
        anyhow::ensure!(
            rows.len() == 50,
            "baseline page at {depth} had {} rows",
            rows.len()
        );
        bar.inc(1);
    }
    bar.finish_and_clear();

    let bar = super::progress(pages as u64, "S6 GET history");
    let mut client_side = Vec::with_capacity(pages);
    let mut server_side = Vec::with_capacity(pages);
    for &depth in &depths {
        let started = Instant::now();
        let response = http
            .get(format!(
                "{}/rooms/{room}/messages?before_seq={depth}&limit=50",
                target.url
            ))
            .send()
            .await?
            .error_for_status()?;
        let server = server_timing(&response).context("no Server-Timing header")?;
        let body = response.bytes().await?;
        client_side.push(started.elapsed());
        server_side.push(server);
        anyhow::ensure!(body.len() > 1000, "a page at {depth} was too short");
        bar.inc(1);
    }
    bar.finish_and_clear();

    let [bare_p50, _, bare_p99, _] = percentiles(&mut bare);
    let [client_p50, client_p90, client_p99, client_max] = percentiles(&mut client_side);
    let [server_p50, _, server_p99, _] = percentiles(&mut server_side);
    Ok(ScenarioReport {
        baseline_server: None,
        id: "S6",
        title: "history page of 50 at a random depth of a room with many messages",
        figures: vec![
            Figure::new("server time p50", server_p50, "ms").goal(Goal::AtMost(2.0)).baseline(bare_p50),
            Figure::new("server time p99", server_p99, "ms").goal(Goal::AtMost(10.0)).baseline(bare_p99),
            Figure::new("client-observed p50", client_p50, "ms").goal(Goal::AtMost(2.0)).baseline(bare_p50),
            Figure::new("client-observed p90", client_p90, "ms"),
            Figure::new("client-observed p99", client_p99, "ms").goal(Goal::AtMost(10.0)).baseline(bare_p99),
            Figure::new("client-observed max", client_max, "ms"),
        ],
        notes: vec![format!(
            "{messages} messages in one room, {pages} pages at random `before_seq` cursors, one client, keep-alive; \
             server time from the `Server-Timing` header; baseline: the bare indexed `SELECT … LIMIT 50` from this process."
        )],
    })
}

async fn seed(pool: &PgPool, room_id: uuid::Uuid, messages: i64) -> anyhow::Result<()> {
    const CHUNK: i64 = 100_000;
    let bar = super::progress(messages as u64, "S6 seeding messages");
    let author = uuid::Uuid::new_v4();
    for start in (1..=messages).step_by(CHUNK as usize) {
        let end = (start + CHUNK - 1).min(messages);
        sqlx::query(SEED_MESSAGES)
            .bind(room_id)
            .bind(author)
            .bind(messages as f64)
            .bind(start)
            .bind(end)
            .execute(pool)
            .await?;
        bar.inc((end - start + 1) as u64);
    }
    bar.finish_and_clear();
    sqlx::query("ANALYZE messages").execute(pool).await?;
    Ok(())
}

/// The application's own time for a request, from `Server-Timing: app;dur=<ms>`.
pub(crate) fn server_timing(response: &reqwest::Response) -> Option<Duration> {
    let header = response.headers().get("server-timing")?.to_str().ok()?;
    let millis: f64 = header
        .split("dur=")
        .nth(1)?
        .split([',', ';'])
        .next()?
        .parse()
        .ok()?;
    Some(Duration::from_secs_f64(millis / 1000.0))
}
