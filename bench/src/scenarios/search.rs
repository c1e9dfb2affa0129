//! S11: full-text search over 1,000,000 messages in 1,000 rooms (900 private, 100 public), as a
//! user who is a member of 50 private rooms, so 150 rooms' messages are theirs to find.
//!
//! Rooms, memberships and messages are written straight into the read tables (the projection's
//! output) with `generate_series`: this scenario measures the read path. The search index is
//! dropped while the messages load and built again after, which is far quicker than keeping it
//! up to date row by row; its definition is read from the database, so it is the migration's.
//! Every message holds five topic words out of 520 (`w000` … `w519`) among everyday filler, so
//! each topic word is in about 1 % of the messages, and queries search for those: one word, two
//! with `or`, a word without another, a quoted pair. The baseline is the bare ranked full-text
//! `SELECT … LIMIT 20` over the whole table, without the access rule, snippets or the JSON, sent
//! from this process to the same database just before.

use std::time::Instant;

use anyhow::Context;
use rand::seq::IndexedRandom;
use rand::Rng;
use serde_json::Value;
use sqlx::PgPool;

use super::history::server_timing;
use crate::report::percentiles;
use crate::{Figure, Goal, ScenarioReport, Target};

const TOPIC_WORDS: i64 = 520;
const PAGE: usize = 20;

const SEED_ROOMS: &str = "
INSERT INTO rooms (id, name, is_private, created_by, created_at, member_count, last_seq)
SELECT gen_random_uuid(), 'search bench ' || n, n > $1, $2, now(), 5, $3
  FROM generate_series(1, $4::integer) AS n
RETURNING id, is_private";

/// The searcher in the first of `$2` private rooms, and four others in every room.
const SEED_MEMBERS: &str = "
INSERT INTO room_members (room_id, user_id, username, role, joined_at)
SELECT r.id, $3, 'searcher', 'member', now() FROM unnest($1::uuid[]) WITH ORDINALITY AS r(id, n)
 WHERE r.n <= $2
UNION ALL
SELECT r.id, gen_random_uuid(), 'member' || k, 'member', now()
  FROM unnest($4::uuid[]) AS r(id), generate_series(1, 4) AS k";

/// Five topic words from a hash of room and sequence, among filler every message has.
const SEED_MESSAGES: &str = "
INSERT INTO messages (room_id, seq, id, user_id, username, content, client_msg_id, created_at)
SELECT r.id, s.seq, gen_random_uuid(), $2, 'bench',
       format('w%s on the plan for w%s today, w%s and w%s after the w%s meeting',
              lpad(((hashint8((r.n + $5) * 1000003 + s.seq * 5 + 0) & 2147483647) % $4)::text, 3, '0'),
              lpad(((hashint8((r.n + $5) * 1000003 + s.seq * 5 + 1) & 2147483647) % $4)::text, 3, '0'),
              lpad(((hashint8((r.n + $5) * 1000003 + s.seq * 5 + 2) & 2147483647) % $4)::text, 3, '0'),
              lpad(((hashint8((r.n + $5) * 1000003 + s.seq * 5 + 3) & 2147483647) % $4)::text, 3, '0'),
              lpad(((hashint8((r.n + $5) * 1000003 + s.seq * 5 + 4) & 2147483647) % $4)::text, 3, '0')),
       NULL, now() - make_interval(secs => $3 - s.seq)
  FROM unnest($1::uuid[]) WITH ORDINALITY AS r(id, n), generate_series(1, $3::bigint) AS s(seq)";

const BARE_SEARCH: &str = "
SELECT room_id, seq
  FROM messages, websearch_to_tsquery('simple', $1) AS q
 WHERE search @@ q
 ORDER BY ts_rank_cd(search, q) DESC
 LIMIT 20";

/// How big the data set is.
struct Size {
    rooms: i32,
    public_rooms: i32,
    joined: i64,
    per_room: i64,
    queries: usize,
}

pub async fn run(target: &Target, quick: bool) -> anyhow::Result<ScenarioReport> {
    let size = if quick {
        Size {
            rooms: 100,
            public_rooms: 10,
            joined: 5,
            per_room: 1_000,
            queries: 300,
        }
    } else {
        Size {
            rooms: 1_000,
            public_rooms: 100,
            joined: 50,
            per_room: 1_000,
            queries: 3_000,
        }
    };
    let http = reqwest::Client::new();
    let token = super::user(&http, target, "searcher").await?;
    let pool = PgPool::connect(&target.database_url).await?;
    let searcher: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE username = 'searcher'")
            .fetch_one(&pool)
            .await?;
    seed(&pool, searcher, &size).await?;
    let queries = queries(size.queries);

    // Both sides then read a warm cache, as a server does after its first minutes.
    let bar = super::progress(TOPIC_WORDS as u64, "S11 warming up");
    for word in 0..TOPIC_WORDS {
        sqlx::query(BARE_SEARCH)
            .bind(format!("w{word:03}"))
            .fetch_all(&pool)
            .await?;
        bar.inc(1);
    }
    bar.finish_and_clear();

    let bar = super::progress(queries.len() as u64, "S11 baseline (SQL)");
    let mut bare = Vec::with_capacity(queries.len());
    for q in &queries {
        let started = Instant::now();
        let rows = sqlx::query(BARE_SEARCH).bind(q).fetch_all(&pool).await?;
        bare.push(started.elapsed());
        anyhow::ensure!(
            rows.len() <= PAGE,
            "the baseline answered {} rows",
            rows.len()
        );
        bar.inc(1);
    }
    bar.finish_and_clear();

    let bar = super::progress(queries.len() as u64, "S11 GET /search/messages");
    let mut client_side = Vec::with_capacity(queries.len());
    let mut server_side = Vec::with_capacity(queries.len());
    let mut results = 0;
    for q in &queries {
        let started = Instant::now();
        let response = http
            .get(format!("{}/search/messages", target.url))
            .query(&[("q", q.as_str()), ("limit", "20")])
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
        let server = server_timing(&response).context("no Server-Timing header")?;
        let page: Value = response.json().await?;
        client_side.push(started.elapsed());
        server_side.push(server);
        let found = page["results"].as_array().context("no results")?.len();
        anyhow::ensure!(
            q.contains(['"', '-']) || found == PAGE,
            "{q:?} found only {found} messages"
        );
        results += found;
        bar.inc(1);
    }
    bar.finish_and_clear();

    let [bare_p50, _, bare_p99, _] = percentiles(&mut bare);
    let [client_p50, client_p90, client_p99, client_max] = percentiles(&mut client_side);
    let [server_p50, _, server_p99, _] = percentiles(&mut server_side);
    let messages = i64::from(size.rooms) * size.per_room;
    Ok(ScenarioReport {
        baseline_server: None,
        id: "S11",
        title: "full-text search over many rooms, as a member of some",
        figures: vec![
            Figure::new("server time p50", server_p50, "ms").goal(Goal::AtMost(20.0)).baseline(bare_p50),
            Figure::new("server time p99", server_p99, "ms").goal(Goal::AtMost(100.0)).baseline(bare_p99),
            Figure::new("server p50 ÷ bare SELECT p50", server_p50 / bare_p50, "×").goal(Goal::AtMost(2.0)),
            Figure::new("server p99 ÷ bare SELECT p99", server_p99 / bare_p99, "×").goal(Goal::AtMost(2.0)),
            Figure::new("client-observed p50", client_p50, "ms").goal(Goal::AtMost(20.0)).baseline(bare_p50),
            Figure::new("client-observed p90", client_p90, "ms"),
            Figure::new("client-observed p99", client_p99, "ms").goal(Goal::AtMost(100.0)).baseline(bare_p99),
            Figure::new("client-observed max", client_max, "ms"),
            Figure::new("results per search", results as f64 / queries.len() as f64, ""),
        ],
        notes: vec![format!(
            "{messages} messages in {} rooms ({} public), the searcher a member of {} private ones; \
             {} searches (60 % one word, 20 % `a or b`, 10 % `a -b`, 10 % a quoted pair; each word in about 1 % of the messages), \
             one client, keep-alive, `limit=20`; server time from the `Server-Timing` header; \
             baseline: the bare ranked `SELECT … ORDER BY ts_rank_cd … LIMIT 20` over every room, from this process.",
            size.rooms, size.public_rooms, size.joined, queries.len()
        )],
    })
}

/// Searches for topic words: most for one word, the rest for two in each way of combining them.
fn queries(count: usize) -> Vec<String> {
    let mut rng = rand::rng();
    let mut word = || format!("w{:03}", rng.random_range(0..TOPIC_WORDS));
    let shapes = ["one"; 6]
        .into_iter()
        .chain(["or"; 2])
        .chain(["not", "phrase"])
        .collect::<Vec<_>>();
    let mut rng = rand::rng();
    (0..count)
        .map(|_| match *shapes.choose(&mut rng).expect("shapes") {
            "or" => format!("{} or {}", word(), word()),
            "not" => format!("{} -{}", word(), word()),
            "phrase" => format!("\"{} on\"", word()),
            _ => word(),
        })
        .collect()
}

async fn seed(pool: &PgPool, searcher: uuid::Uuid, size: &Size) -> anyhow::Result<()> {
    let rooms: Vec<(uuid::Uuid, bool)> = sqlx::query_as(SEED_ROOMS)
        .bind(size.public_rooms)
        .bind(searcher)
        .bind(size.per_room)
        .bind(size.rooms)
        .fetch_all(pool)
        .await?;
    let all: Vec<uuid::Uuid> = rooms.iter().map(|(id, _)| *id).collect();
    let private: Vec<uuid::Uuid> = rooms
        .iter()
        .filter(|(_, p)| *p)
        .map(|(id, _)| *id)
        .collect();
    sqlx::query(SEED_MEMBERS)
        .bind(&private)
        .bind(size.joined)
        .bind(searcher)
        .bind(&all)
        .execute(pool)
        .await?;

    let index: String = sqlx::query_scalar("SELECT pg_get_indexdef('messages_search'::regclass)")
        .fetch_one(pool)
        .await?;
    sqlx::query("DROP INDEX messages_search")
        .execute(pool)
        .await?;
    let messages = all.len() as u64 * size.per_room as u64;
    let bar = super::progress(messages, "S11 seeding messages");
    let author = uuid::Uuid::new_v4();
    for (at, chunk) in all.chunks(50).enumerate() {
        sqlx::query(SEED_MESSAGES)
            .bind(chunk)
            .bind(author)
            .bind(size.per_room)
            .bind(TOPIC_WORDS)
            .bind(at as i64 * 50)
            .execute(pool)
            .await?;
        bar.inc(chunk.len() as u64 * size.per_room as u64);
    }
    bar.finish_and_clear();
    let mut connection = pool.acquire().await?;
    sqlx::query("SET maintenance_work_mem = '256MB'")
        .execute(&mut *connection)
        .await?;
    sqlx::query(&index).execute(&mut *connection).await?;
    sqlx::query("VACUUM ANALYZE messages")
        .execute(&mut *connection)
        .await?;
    sqlx::query("ANALYZE rooms, room_members")
        .execute(&mut *connection)
        .await?;
    Ok(())
}
