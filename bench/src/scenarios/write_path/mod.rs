//! S2 and the hot-room goals: durable `POST /rooms/{id}/messages` over HTTP, sequentially, from
//! 64 clients into one hot room, from 64 clients over 1,000 rooms, and into a room that already
//! holds 100,000 events against a new one. The baseline is a bare single-row
//! `INSERT ... COMMIT` loop at the same concurrency against the same database, from this process.
//!
//! Every post carries a `client_msg_id`, as the web client's do, so rooms remember their last
//! 1,000 ids and the long room's state (and snapshot) has its full size.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

mod api;
mod baseline;

use crate::{Figure, Goal, ScenarioReport, Target};
use api::Api;
use baseline::{insert_loop, CREATE_BASELINE};

const CLIENTS: usize = 64;

/// Turns each of the new and the long room gets in their comparison, so that whatever else the
/// machine does meanwhile weighs on both alike.
const TURNS: u32 = 10;

pub async fn run(target: &Target, quick: bool) -> anyhow::Result<ScenarioReport> {
    let (seconds, history, room_count) = if quick {
        (Duration::from_secs(2), 10_000, 100)
    } else {
        (Duration::from_secs(10), 100_000, 1_000)
    };
    let api = Api {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(CLIENTS * 2)
            .build()?,
        target: target.clone(),
    };
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&target.database_url)
        .await?;
    sqlx::query(CREATE_BASELINE).execute(&pool).await?;

    let bar = super::progress(CLIENTS as u64, "S2 signing up");
    let mut tokens = Vec::with_capacity(CLIENTS);
    for n in 0..CLIENTS {
        tokens.push(super::user(&api.http, target, &format!("writer{n}")).await?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let owner = &tokens[0];
    let alone = |room: &String| vec![(owner.clone(), vec![room.clone()])];
    let everyone = |room: &String| -> Vec<_> {
        tokens
            .iter()
            .map(|token| (token.clone(), vec![room.clone()]))
            .collect()
    };

    eprintln!("S2 baselines: INSERT ... COMMIT at concurrency 1 and {CLIENTS}");
    let bare_one = insert_loop(&target.database_url, 1, seconds).await?;
    let bare_many = insert_loop(&target.database_url, CLIENTS, seconds).await?;

    eprintln!("S2 sequential posts into a new room");
    let room = api.room(owner, "sequential").await?;
    let mut posted = 0;
    let sequential = measured(
        &pool,
        &mut posted,
        drive(&api, alone(&room), Stop::After(seconds)),
    )
    .await?;

    eprintln!("S2 {CLIENTS} clients into one hot room");
    let room = api.room(owner, "hot").await?;
    api.join(&tokens[1..], &room).await?;
    let hot = measured(
        &pool,
        &mut posted,
        drive(&api, everyone(&room), Stop::After(seconds)),
    )
    .await?;

    let bar = super::progress(room_count as u64, "S2 creating rooms");
    let mut rooms_of: Vec<Vec<String>> = vec![Vec::new(); CLIENTS];
    for n in 0..room_count {
        let room = api.room(&tokens[n % CLIENTS], &format!("room {n}")).await?;
        rooms_of[n % CLIENTS].push(room);
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!("S2 {CLIENTS} clients over {room_count} rooms");
    let spread_clients = tokens.iter().cloned().zip(rooms_of).collect();
    let spread = measured(
        &pool,
        &mut posted,
        drive(&api, spread_clients, Stop::After(seconds)),
    )
    .await?;

    eprintln!("S2 filling the long room with {history} messages from {CLIENTS} clients");
    let long = api.room(owner, "long").await?;
    api.join(&tokens[1..], &long).await?;
    let fill = measured(
        &pool,
        &mut posted,
        drive(&api, everyone(&long), Stop::Count(history)),
    )
    .await?;
    let snapshot: Option<(i64, i32, i32)> = sqlx::query_as(SNAPSHOT_SIZE)
        .bind(&long)
        .fetch_optional(&pool)
        .await?;

    eprintln!("S2 sequential posts, a new room and the long room taking turns");
    let fresh = api.room(owner, "fresh").await?;
    let turn = Stop::After(seconds / TURNS);
    let mut into_fresh = Run::default();
    let mut into_long = Run::default();
    for _ in 0..TURNS {
        into_fresh.extend(drive(&api, alone(&fresh), turn).await?);
        into_long.extend(drive(&api, alone(&long), turn).await?);
    }

    let per_second = |run: &Run| run.rate();
    let mut notes = vec![
        format!(
            "Posts carry a `client_msg_id`; each client waits for its answer (201, durable) before \
             its next post. Baseline: a bare single-row `INSERT ... COMMIT` loop from this process, \
             each worker on its own connection; concurrency 1 for the sequential figures, \
             {CLIENTS} for the others. After each of the first four runs the scenario waits until \
             the read tables hold every message posted: a system that answers faster by leaving \
             the relay and projection behind shows it in the \"projected\" rate, posts per second \
             from the first post until the last one is in the read tables."
        ),
        "Latencies, p50 / p90 / p99 / max ms, this system vs the baseline at the same concurrency:"
            .to_owned(),
    ];
    for (what, run, bare) in [
        ("sequential", &sequential, &bare_one),
        ("one hot room", &hot, &bare_many),
        ("many rooms", &spread, &bare_many),
        ("filling the long room", &fill, &bare_many),
        ("sequential, new room", &into_fresh, &bare_one),
        ("sequential, long room", &into_long, &bare_one),
    ] {
        let per_commit = run
            .events_per_commit
            .map(|per_commit| format!(", {per_commit:.1} events per commit"))
            .unwrap_or_default();
        let projected = match (run.projected, run.projected_rate()) {
            (Some(Projected::After(after)), Some(rate)) => format!(
                "; in the read tables {:.2} s after the last answer, {rate:.0} msg/s projected",
                after.as_secs_f64()
            ),
            (Some(Projected::NotWithin(limit)), _) => format!(
                "; not all in the read tables {} s after the last answer",
                limit.as_secs()
            ),
            _ => String::new(),
        };
        notes.push(format!(
            "- {what}: {:.0} msg/s, {} vs {}{per_commit}{projected}",
            run.rate(),
            run.spread(),
            bare.spread(),
        ));
    }
    if let Some((sequence, text, stored)) = snapshot {
        notes.push(format!(
            "The long room's snapshot at sequence {sequence}: {} KB of JSON, {} KB stored.",
            text / 1024,
            stored / 1024
        ));
    }
    let long_vs_new = into_long.mean().as_secs_f64() / into_fresh.mean().as_secs_f64();
    let mut figures = vec![
        Figure::new("sequential posts", per_second(&sequential), "msg/s")
            .goal(Goal::AtLeast(500.0))
            .baseline(per_second(&bare_one)),
        Figure::new("sequential post p99", sequential.millis(99.0), "ms")
            .goal(Goal::AtMost(10.0))
            .baseline(bare_one.millis(99.0)),
        Figure::new(
            format!("{CLIENTS} clients, one hot room"),
            per_second(&hot),
            "msg/s",
        )
        .goal(Goal::AtLeast(2000.0))
        .baseline(per_second(&bare_many)),
        Figure::new(
            format!("{CLIENTS} clients over {room_count} rooms"),
            per_second(&spread),
            "msg/s",
        )
        .goal(Goal::AtLeast(2000.0))
        .baseline(per_second(&bare_many)),
        Figure::new(
            format!("sequential post into a room past {history} events, mean"),
            into_long.mean().as_secs_f64() * 1000.0,
            "ms",
        )
        .baseline(into_fresh.mean().as_secs_f64() * 1000.0),
        Figure::new("long room / new room, mean post latency", long_vs_new, "×")
            .goal(Goal::AtMost(1.2)),
    ];
    for (what, run, bare) in [
        ("sequential posts".to_owned(), &sequential, &bare_one),
        (format!("{CLIENTS} clients, one hot room"), &hot, &bare_many),
        (
            format!("{CLIENTS} clients over {room_count} rooms"),
            &spread,
            &bare_many,
        ),
    ] {
        if let Some(rate) = run.projected_rate() {
            figures.push(
                Figure::new(format!("{what}, projected"), rate, "msg/s").baseline(per_second(bare)),
            );
        }
    }
    Ok(ScenarioReport {
        baseline_server: None,
        id: "S2",
        title: "durable posts: sequential, one hot room, many rooms, a long room",
        figures,
        notes,
    })
}

/// Runs `work`, waits until the read tables hold every message posted so far (`posted`, which it
/// adds the run's posts to), and counts the commits it took: the events of one transaction share
/// their `recorded_at` (`now()` is the transaction's start). A system can answer posts faster for a
/// while by leaving their relay and projection behind; the wait shows it, and no run starts with
/// the backlog of the one before.
async fn measured(
    pool: &PgPool,
    posted: &mut i64,
    work: impl std::future::Future<Output = anyhow::Result<Run>>,
) -> anyhow::Result<Run> {
    let since: i64 = sqlx::query_scalar(LAST_POSITION).fetch_one(pool).await?;
    let mut run = work.await?;
    *posted += run.latencies.len() as i64;
    run.projected = Some(projected(pool, *posted).await?);
    let (events, commits): (i64, i64) = sqlx::query_as(COMMITS_SINCE)
        .bind(since)
        .fetch_one(pool)
        .await?;
    run.events_per_commit = Some(events as f64 / commits.max(1) as f64);
    Ok(run)
}

/// How long a run's posts may take to reach the read tables before the scenario goes on without
/// them.
const PROJECTED_WITHIN: Duration = Duration::from_secs(300);

/// How long after now the read tables held `posted` messages.
async fn projected(pool: &PgPool, posted: i64) -> anyhow::Result<Projected> {
    let started = Instant::now();
    let bar = super::progress(posted as u64, "projecting");
    let projected = loop {
        let held: i64 = sqlx::query_scalar(MESSAGES_HELD).fetch_one(pool).await?;
        bar.set_position(held as u64);
        if held >= posted {
            break Projected::After(started.elapsed());
        }
        if started.elapsed() >= PROJECTED_WITHIN {
            break Projected::NotWithin(PROJECTED_WITHIN);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    bar.finish_and_clear();
    Ok(projected)
}

const MESSAGES_HELD: &str = "SELECT count(*) FROM messages";

const SNAPSHOT_SIZE: &str = "
SELECT last_sequence, octet_length(payload::text), pg_column_size(payload)
  FROM snapshots WHERE aggregate_id = $1";

const LAST_POSITION: &str = "SELECT coalesce(max(position), 0) FROM events";

const COMMITS_SINCE: &str =
    "SELECT count(*), count(DISTINCT recorded_at) FROM events WHERE position > $1";

#[derive(Debug, Clone, Copy)]
enum Stop {
    After(Duration),
    Count(usize),
}

/// Posts from every client, each waiting for its answer before its next post, cycling through
/// its rooms, until `stop`.
async fn drive(api: &Api, clients: Vec<(String, Vec<String>)>, stop: Stop) -> anyhow::Result<Run> {
    let started = Instant::now();
    let (deadline, count) = match stop {
        Stop::After(length) => (Some(started + length), None),
        Stop::Count(count) => (None, Some(count)),
    };
    let bar = match stop {
        Stop::After(length) => super::timed(length, "posting"),
        Stop::Count(count) => super::progress(count as u64, "posting"),
    };
    let issued = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = clients
        .into_iter()
        .map(|(token, rooms)| {
            let api = api.clone();
            let issued = issued.clone();
            let bar = bar.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for room in rooms.iter().cycle() {
                    if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                        break;
                    }
                    if count.is_some_and(|count| issued.fetch_add(1, Ordering::Relaxed) >= count) {
                        break;
                    }
                    let sent = Instant::now();
                    api.post(&token, room).await?;
                    latencies.push(sent.elapsed());
                    if count.is_some() {
                        bar.inc(1);
                    }
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let run = Run::joined(workers, started).await?;
    bar.finish_and_clear();
    Ok(run)
}

#[derive(Debug, Default)]
struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
    events_per_commit: Option<f64>,
    /// When the read tables held every message posted; `None` for a run not waited on.
    projected: Option<Projected>,
}

/// How long after a run's last answer the read tables held every message posted.
#[derive(Debug, Clone, Copy)]
enum Projected {
    After(Duration),
    NotWithin(Duration),
}

impl Run {
    /// The run of `workers`, each answering its latencies, from `started` until the last ended.
    async fn joined(
        workers: Vec<tokio::task::JoinHandle<anyhow::Result<Vec<Duration>>>>,
        started: Instant,
    ) -> anyhow::Result<Self> {
        let mut run = Self::default();
        for worker in workers {
            run.latencies.extend(worker.await??);
        }
        run.elapsed = started.elapsed();
        Ok(run)
    }

    fn extend(&mut self, other: Run) {
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// Posts per second from the first post until the read tables held the last one.
    fn projected_rate(&self) -> Option<f64> {
        let Some(Projected::After(after)) = self.projected else {
            return None;
        };
        Some(self.latencies.len() as f64 / (self.elapsed + after).as_secs_f64())
    }

    fn mean(&self) -> Duration {
        self.latencies.iter().sum::<Duration>() / self.latencies.len().max(1) as u32
    }

    /// p50 / p90 / p99 / max, in milliseconds.
    fn spread(&self) -> String {
        let [p50, p90, p99, max] = [50.0, 90.0, 99.0, 100.0].map(|percent| self.millis(percent));
        format!("{p50:.2} / {p90:.2} / {p99:.2} / {max:.2}")
    }

    fn millis(&self, percent: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
        let at = sorted.get(rank.saturating_sub(1)).copied();
        at.unwrap_or_default().as_secs_f64() * 1000.0
    }
}
