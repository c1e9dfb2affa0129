//! S10: `GET /users/me/rooms` with unread counts, for a user in 200 rooms with 1,000 messages
//! after their read position in each.
//!
//! As in S6, the rooms, memberships and messages are written straight into the read tables
//! (what the projector would have made of them, ordinals included): this scenario measures the
//! read path. The baseline is the endpoint's own query sent from this process to the same
//! database; beside it, the obvious query that counts every unread row (capped at 999 per room),
//! which the ordinals replace.

use std::time::Instant;

use anyhow::Context;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::history::server_timing;
use crate::report::percentiles;
use crate::{Figure, Goal, ScenarioReport, Target};

const ROOMS: i64 = 200;
const MESSAGES_PER_ROOM: i64 = 1000;
/// Every 20th message is the reader's own, every 50th of the others' is deleted.
const OWN_EVERY: i64 = 20;
const DELETED_EVERY: i64 = 50;
/// The reader joined each room at its second event: every message comes after.
const JOINED_AT: i64 = 2;

const SEED_ROOMS: &str = "
INSERT INTO rooms (id, name, is_private, created_by, created_at, member_count, last_seq,
                   message_count)
SELECT id, 'unread ' || id, false, $2, now(), 2, $3 + $4, $4 FROM UNNEST($1::uuid[]) AS id";

const SEED_MEMBERS: &str = "
INSERT INTO room_members (room_id, user_id, username, role, joined_at, read_floor)
SELECT id, $2, 'reader', 'member', now(), $3 FROM UNNEST($1::uuid[]) AS id";

const SEED_MESSAGES: &str = "
INSERT INTO messages (room_id, seq, id, user_id, username, content, client_msg_id, created_at,
                      ordinal, author_ordinal, deleted)
SELECT $1, $4 + n, gen_random_uuid(),
       CASE WHEN n % $6 = 0 THEN $2 ELSE $3 END, 'someone', 'message ' || n, NULL, now(), n,
       CASE WHEN n % $6 = 0 THEN n / $6 ELSE n - n / $6 END,
       n % $6 <> 0 AND n % $7 = 0
  FROM generate_series(1, $5::bigint) AS n";

/// What one would write without ordinals: count each room's unread rows, at most 999 of them.
const COUNT_EVERY_ROW: &str = "
SELECT m.room_id,
       (SELECT count(*) FROM (SELECT 1 FROM messages x
                               WHERE x.room_id = m.room_id AND x.seq > m.read_floor
                                 AND x.user_id <> m.user_id AND NOT x.deleted
                               LIMIT 999) c) AS unread
  FROM room_members m
 WHERE m.user_id = $1";

pub async fn run(target: &Target, quick: bool) -> anyhow::Result<ScenarioReport> {
    let requests = if quick { 100 } else { 1000 };
    let http = reqwest::Client::new();
    let token = super::user(&http, target, "reader").await?;
    let me: Value = http
        .get(format!("{}/users/me", target.url))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let reader: Uuid = me["id"].as_str().context("no id in /users/me")?.parse()?;
    let pool = PgPool::connect(&target.database_url).await?;
    seed(&pool, reader).await?;
    let own = MESSAGES_PER_ROOM / OWN_EVERY;
    let deleted = (1..=MESSAGES_PER_ROOM)
        .filter(|n| n % OWN_EVERY != 0 && n % DELETED_EVERY == 0)
        .count() as i64;
    let expected = (MESSAGES_PER_ROOM - own - deleted).min(999);

    let mut bare = Vec::with_capacity(requests);
    let mut naive = Vec::with_capacity(requests);
    let bar = super::progress(requests as u64 * 2, "S10 baselines (SQL)");
    for _ in 0..requests {
        let started = Instant::now();
        let rows = sqlx::query(query_api::MY_ROOMS)
            .bind(reader)
            .fetch_all(&pool)
            .await?;
        bare.push(started.elapsed());
        anyhow::ensure!(
            rows.len() as i64 == ROOMS,
            "the bare query found {} rooms",
            rows.len()
        );
        let started = Instant::now();
        let counted: Vec<(Uuid, i64)> = sqlx::query_as(COUNT_EVERY_ROW)
            .bind(reader)
            .fetch_all(&pool)
            .await?;
        naive.push(started.elapsed());
        anyhow::ensure!(
            counted.iter().all(|(_, unread)| *unread == expected),
            "counting every row disagrees: {:?}",
            counted.first()
        );
        bar.inc(2);
    }
    bar.finish_and_clear();

    let bar = super::progress(requests as u64, "S10 GET /users/me/rooms");
    let mut client_side = Vec::with_capacity(requests);
    let mut server_side = Vec::with_capacity(requests);
    for _ in 0..requests {
        let started = Instant::now();
        let response = http
            .get(format!("{}/users/me/rooms", target.url))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
        let server = server_timing(&response).context("no Server-Timing header")?;
        let rooms: Vec<Value> = response.json().await?;
        client_side.push(started.elapsed());
        server_side.push(server);
        anyhow::ensure!(
            rooms.len() as i64 == ROOMS && rooms.iter().all(|room| room["unread"] == expected),
            "the answer is not {ROOMS} rooms with {expected} unread each: {:?}",
            rooms.first()
        );
        bar.inc(1);
    }
    bar.finish_and_clear();

    let [bare_p50, _, bare_p99, _] = percentiles(&mut bare);
    let [naive_p50, _, naive_p99, _] = percentiles(&mut naive);
    let [client_p50, client_p90, client_p99, client_max] = percentiles(&mut client_side);
    let [server_p50, _, server_p99, _] = percentiles(&mut server_side);
    Ok(ScenarioReport {
        baseline_server: None,
        id: "S10",
        title: "the rooms list with unread counts, 200 rooms × 1,000 unread",
        figures: vec![
            Figure::new("server time p50", server_p50, "ms").baseline(bare_p50),
            Figure::new("server time p99", server_p99, "ms")
                .goal(Goal::AtMost(20.0))
                .baseline(bare_p99),
            Figure::new("client-observed p50", client_p50, "ms").baseline(bare_p50),
            Figure::new("client-observed p90", client_p90, "ms"),
            Figure::new("client-observed p99", client_p99, "ms")
                .goal(Goal::AtMost(20.0))
                .baseline(bare_p99),
            Figure::new("client-observed max", client_max, "ms"),
            Figure::new("counting every unread row p50", naive_p50, "ms"),
            Figure::new("counting every unread row p99", naive_p99, "ms"),
        ],
        notes: vec![format!(
            "{ROOMS} rooms of {MESSAGES_PER_ROOM} messages, all after the reader's position: \
             {own} the reader's own and {deleted} deleted per room, so {expected} unread each; \
             {requests} requests, one client, keep-alive; server time from `Server-Timing`; \
             baseline: the endpoint's own query from this process. Counting every unread row \
             (capped at 999) instead is the query the message ordinals replace."
        )],
    })
}

async fn seed(pool: &PgPool, reader: Uuid) -> anyhow::Result<()> {
    let author = Uuid::new_v4();
    let rooms: Vec<Uuid> = (0..ROOMS).map(|_| Uuid::new_v4()).collect();
    sqlx::query(SEED_ROOMS)
        .bind(&rooms)
        .bind(author)
        .bind(JOINED_AT)
        .bind(MESSAGES_PER_ROOM)
        .execute(pool)
        .await?;
    sqlx::query(SEED_MEMBERS)
        .bind(&rooms)
        .bind(reader)
        .bind(JOINED_AT)
        .execute(pool)
        .await?;
    let bar = super::progress(ROOMS as u64, "S10 seeding rooms");
    for room in &rooms {
        sqlx::query(SEED_MESSAGES)
            .bind(room)
            .bind(reader)
            .bind(author)
            .bind(JOINED_AT)
            .bind(MESSAGES_PER_ROOM)
            .bind(OWN_EVERY)
            .bind(DELETED_EVERY)
            .execute(pool)
            .await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    sqlx::query("VACUUM ANALYZE messages").execute(pool).await?;
    Ok(())
}
