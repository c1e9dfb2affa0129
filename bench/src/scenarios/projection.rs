//! S5: the projector's live throughput and lag (commit → row visible), and `chat rebuild` of a
//! million events; each beside a raw scan of the events table in position order, measured on
//! the same database in the same run.
//!
//! The system runs in this process (relay, RabbitMQ, projector, as `chat all` runs them) on a
//! database of its own. Events are written straight into the store, as the command executor
//! writes them, so the load measures the projection and not the HTTP write path.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use bus::relay::RelaySettings;
use bus::{AmqpFeed, AmqpPublisher, BusConfig, EventEnvelope};
use domain::RoomEvent;
use futures::TryStreamExt;
use projector::ProjectorSettings;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use testkit::seed::{self, Shape, StoredEvent};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::report::percentiles;
use crate::{Figure, Goal, ScenarioReport, Usage};

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Runs both halves, each with what this process used meanwhile (it runs the system under
/// test); `quick` shrinks them tenfold.
pub async fn run(quick: bool) -> anyhow::Result<Vec<ScenarioReport>> {
    let scale = if quick { 10 } else { 1 };
    let before = Usage::of_this_process()?;
    let mut live = live(scale).await?;
    let between = Usage::of_this_process()?;
    live.add_usage(
        "this process (writers, relay, projector)",
        between.since(before),
    );
    let mut rebuild = rebuild(scale).await?;
    rebuild.add_usage(
        "this process (seeding, rebuild)",
        Usage::of_this_process()?.since(between),
    );
    Ok(vec![live, rebuild])
}

/// Rooms the live load is spread over.
const ROOMS: usize = 500;
/// Live load: concurrent writers, each committing a transaction of messages every tick (as
/// concurrent clients' commits are grouped by the store).
const WRITERS: usize = 4;
const WRITER_TICK: Duration = Duration::from_millis(20);

async fn live(scale: usize) -> anyhow::Result<ScenarioReport> {
    let load_before = load_average();
    let db = BenchDb::create().await?;
    let setup = seed::history(&Shape {
        users: 100,
        rooms: ROOMS,
        members_per_room: 0,
        messages: 0,
        rooms_with_leavers: 0,
    });
    seed::write(&db.pool, &setup, 5000).await?;
    let mut rooms = Rooms::from(&setup);
    let shutdown = CancellationToken::new();
    tokio::spawn(bus::relay::run(
        db.pool.clone(),
        AmqpPublisher::new(db.bus.clone()),
        RelaySettings::default(),
        shutdown.clone(),
    ));
    let settings = ProjectorSettings::default();
    tokio::spawn(projector::run(
        db.pool.clone(),
        AmqpFeed::projector(db.bus.clone(), settings.prefetch),
        settings,
        shutdown.clone(),
    ));
    let mut written = setup.len() as i64;
    db.projected(written).await?;

    // Capacity: a backlog written as fast as the store takes it, drained by relay, broker
    // and projector running together.
    let backlog = 100_000 / scale;
    let started = Instant::now();
    for chunk in 0..backlog / 5000 {
        let events = rooms.messages(5000, chunk * 5000);
        seed::write(&db.pool, &events, 5000).await?;
    }
    written += backlog as i64;
    db.projected(written).await?;
    let drained = started.elapsed();
    let capacity = backlog as f64 / drained.as_secs_f64();

    // Lag at a steady rate: each write transaction's commit time against the moment the
    // projector's commit made its rows visible. At the goal's rate, and at a fifth of it to
    // show the pipeline's own latency apart from queueing.
    let seconds = (10 / scale).max(3);
    let mut writers = rooms.split(WRITERS);
    let mut steady = Vec::new();
    for rate in [1000, 5000] {
        let (lags, offered, after) = lag_at(&db, writers, rate, seconds).await?;
        writers = after;
        written += lags.len() as i64;
        steady.push((rate, offered, lags));
    }
    db.projected(written).await?;
    shutdown.cancel();

    let (scanned, scan) = raw_scan(&db.pool).await?;
    let scan_rate = scanned as f64 / scan.as_secs_f64();
    db.drop().await?;
    let mut figures = vec![Figure::new(
        format!("backlog of {backlog} events drained (relay + RabbitMQ + projector)"),
        capacity,
        "events/s",
    )
    .goal(Goal::AtLeast(5000.0))
    .baseline(scan_rate)];
    for (rate, offered, mut lags) in steady {
        let [p50, p90, p99, max] = percentiles(&mut lags);
        figures.push(Figure::new(
            format!("offered at {rate}/s"),
            offered,
            "events/s",
        ));
        figures.push(Figure::new(format!("lag at {rate}/s, p50"), p50, "ms"));
        figures.push(Figure::new(format!("lag at {rate}/s, p90"), p90, "ms"));
        let p99 = Figure::new(format!("lag at {rate}/s, p99"), p99, "ms");
        figures.push(if rate == 5000 {
            p99.goal(Goal::AtMost(100.0))
        } else {
            p99
        });
        figures.push(Figure::new(format!("lag at {rate}/s, max"), max, "ms"));
    }
    Ok(ScenarioReport {
        baseline_server: None,
        id: "S5",
        title: "live projection: relay, RabbitMQ and projector together",
        figures,
        notes: vec![format!(
            "Events are written straight into the store ({WRITERS} writers, one transaction of \
             messages every {} ms each, over {ROOMS} rooms); lag is from a write's commit to the \
             projector commit that made its rows visible (seen through the `projection` \
             notification). The baseline is a raw scan of the {scanned} stored events in \
             position order. Load average on the machine: {} before, {} after.",
            WRITER_TICK.as_millis(),
            load_before,
            load_average(),
        )],
    })
}

/// Writes `rate` events per second for `seconds` through `writers`, and answers every event's
/// lag (sorted), the rate achieved, and the writers to go on with.
async fn lag_at(
    db: &BenchDb,
    writers: Vec<Rooms>,
    rate: usize,
    seconds: usize,
) -> anyhow::Result<(Vec<Duration>, f64, Vec<Rooms>)> {
    let ticks = seconds * (Duration::from_secs(1).as_millis() / WRITER_TICK.as_millis()) as usize;
    let per_transaction = (rate * WRITER_TICK.as_millis() as usize / 1000 / WRITERS).max(1);
    let stop_watching = CancellationToken::new();
    let watcher = tokio::spawn(watch(db.pool.clone(), stop_watching.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let bar = super::timed(Duration::from_secs(seconds as u64), "steady writes");
    let started = Instant::now();
    let running: Vec<_> = writers
        .into_iter()
        .map(|rooms| {
            tokio::spawn(write_steadily(
                db.pool.clone(),
                rooms,
                ticks,
                per_transaction,
            ))
        })
        .collect();
    let mut commits = Vec::new();
    let mut writers = Vec::new();
    for writer in running {
        let (rooms, written) = writer.await??;
        writers.push(rooms);
        commits.extend(written);
    }
    let offered = commits.len() as f64 / started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    // Every room the writers touched must have caught up before the watcher stops.
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (room, seq, _) in &commits {
        let entry = last.entry(room.as_str()).or_default();
        *entry = (*entry).max(*seq);
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    let visible = loop {
        let checkpoints: Vec<(String, i64)> = sqlx::query_as(
            "SELECT aggregate_id, last_seq FROM projection_checkpoints
              WHERE aggregate_type = 'Room'",
        )
        .fetch_all(&db.pool)
        .await?;
        let done = checkpoints
            .iter()
            .filter(|(room, seq)| last.get(room.as_str()).is_some_and(|last| seq >= last))
            .count();
        if done == last.len() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            stop_watching.cancel();
            break watcher.await??;
        }
        anyhow::ensure!(Instant::now() < deadline, "the projection stalled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let lags: Vec<Duration> = commits
        .iter()
        .map(|(room, seq, committed)| {
            let seen = visible
                .get(room)
                .and_then(|seen| seen.iter().find(|(upto, _)| upto >= seq))
                .map(|(_, at)| *at)
                .expect("every event became visible");
            seen.saturating_duration_since(*committed)
        })
        .collect();
    Ok((lags, offered, writers))
}

/// Rebuild size.
const REBUILD_EVENTS: usize = 1_000_000;

async fn rebuild(scale: usize) -> anyhow::Result<ScenarioReport> {
    let load_before = load_average();
    let db = BenchDb::create().await?;
    let events = REBUILD_EVENTS / scale;
    let history = seed::history(&mixed(events));
    let seeding = super::progress(history.len() as u64, "seeding the store");
    for chunk in history.chunks(10_000) {
        seed::write(&db.pool, chunk, 10_000).await?;
        seeding.inc(chunk.len() as u64);
    }
    seeding.finish_and_clear();
    // Nothing relays in this scenario: the outbox would only slow the rebuild's reads.
    sqlx::query("TRUNCATE outbox").execute(&db.pool).await?;
    sqlx::query("VACUUM ANALYZE events")
        .execute(&db.pool)
        .await?;
    drop(history);

    let (scanned, scan) = raw_scan(&db.pool).await?;
    let rebuilding = super::progress(scanned, "chat rebuild");
    let report = projector::rebuild(&db.pool, |progress| {
        rebuilding.set_length(progress.total);
        rebuilding.set_position(progress.read);
    })
    .await?;
    rebuilding.finish_and_clear();
    let rate = report.events as f64 / report.elapsed.as_secs_f64();
    let scan_rate = scanned as f64 / scan.as_secs_f64();
    db.drop().await?;
    Ok(ScenarioReport {
        baseline_server: None,
        id: "S5",
        title: "rebuild: `chat rebuild` of the whole store",
        figures: vec![Figure::new(
            format!(
                "rebuild of {} events (passes, indexes, swap)",
                report.events
            ),
            rate,
            "events/s",
        )
        .goal(Goal::AtLeast(20_000.0))
        .baseline(scan_rate)],
        notes: vec![format!(
            "A mixed history (users, rooms, joins, leaves, owner hand-overs, messages) written \
             straight into the store; the rebuild took {:.1} s, the baseline raw scan of the \
             same events in position order {:.1} s. Load average on the machine: {} before, {} \
             after.",
            report.elapsed.as_secs_f64(),
            scan.as_secs_f64(),
            load_before,
            load_average(),
        )],
    })
}

/// The machine's 1-minute load average: on a shared 2-core machine it explains much.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|load| load.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// The mixed history of the tests, at benchmark size: a quarter of the events are users,
/// rooms and membership, the rest messages.
fn mixed(events: usize) -> Shape {
    let rooms = events / 500;
    let users = events / 500;
    let members_per_room = 10;
    let rooms_with_leavers = rooms / 4;
    let fixed = users + rooms * (2 + members_per_room) + rooms_with_leavers * 3;
    Shape {
        users,
        rooms,
        members_per_room,
        messages: events - fixed,
        rooms_with_leavers,
    }
}

/// Writes `ticks` transactions of `per_transaction` messages at a steady pace; answers its
/// rooms back, and each event's room, sequence and commit time.
async fn write_steadily(
    pool: PgPool,
    mut rooms: Rooms,
    ticks: usize,
    per_transaction: usize,
) -> anyhow::Result<(Rooms, Vec<(String, i64, Instant)>)> {
    let mut interval = tokio::time::interval(WRITER_TICK);
    let mut commits = Vec::with_capacity(ticks * per_transaction);
    for tick in 0..ticks {
        interval.tick().await;
        let events = rooms.messages(per_transaction, tick * per_transaction);
        seed::write(&pool, &events, per_transaction).await?;
        let committed = Instant::now();
        commits.extend(
            events
                .into_iter()
                .map(|event| (event.aggregate_id, event.sequence, committed)),
        );
    }
    Ok((rooms, commits))
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

/// For each room, the checkpoints the watcher saw and when it first saw them.
type Visibility = HashMap<String, Vec<(i64, Instant)>>;

/// Looks at the room checkpoints after every projector commit (woken by its NOTIFY).
async fn watch(pool: PgPool, stop: CancellationToken) -> anyhow::Result<Visibility> {
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(eventstore::PROJECTION_CHANNEL).await?;
    let mut seen: Visibility = HashMap::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(seen),
            _ = listener.try_recv() => {}
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        let checkpoints: Vec<(String, i64)> = sqlx::query_as(
            "SELECT aggregate_id, last_seq FROM projection_checkpoints
              WHERE aggregate_type = 'Room'",
        )
        .fetch_all(&pool)
        .await?;
        let now = Instant::now();
        for (room, upto) in checkpoints {
            let history = seen.entry(room).or_default();
            if history.last().is_none_or(|(last, _)| *last < upto) {
                history.push((upto, now));
            }
        }
    }
}

/// The rooms of the setup, and the sequence each is at.
struct Rooms {
    ids: Vec<Uuid>,
    sequences: Vec<i64>,
    author: (Uuid, String),
}

impl Rooms {
    fn from(setup: &[StoredEvent]) -> Self {
        let mut sequences: HashMap<Uuid, i64> = HashMap::new();
        for event in setup.iter().filter(|event| event.aggregate_type == "Room") {
            let id: Uuid = event.aggregate_id.parse().expect("room ids are UUIDs");
            let sequence = sequences.entry(id).or_default();
            *sequence = (*sequence).max(event.sequence);
        }
        let (ids, sequences) = sequences.into_iter().unzip();
        Self {
            ids,
            sequences,
            author: (Uuid::new_v4(), "bench".into()),
        }
    }

    /// The rooms dealt out to `writers` writers, each with rooms of its own.
    fn split(self, writers: usize) -> Vec<Rooms> {
        let mut parts: Vec<Rooms> = (0..writers)
            .map(|_| Rooms {
                ids: Vec::new(),
                sequences: Vec::new(),
                author: self.author.clone(),
            })
            .collect();
        for (n, (id, sequence)) in self.ids.into_iter().zip(self.sequences).enumerate() {
            parts[n % writers].ids.push(id);
            parts[n % writers].sequences.push(sequence);
        }
        parts
    }

    /// `count` new messages, round robin over the rooms starting at room `from`.
    fn messages(&mut self, count: usize, from: usize) -> Vec<StoredEvent> {
        (from..from + count)
            .map(|n| {
                let room = n % self.ids.len();
                self.sequences[room] += 1;
                let event = RoomEvent::MessagePosted {
                    message_id: Uuid::new_v4(),
                    user_id: self.author.0,
                    username: self.author.1.clone(),
                    content: format!("benchmark message {n}"),
                    client_msg_id: None,
                    posted_at: chrono::Utc::now(),
                };
                StoredEvent::room(self.ids[room], self.sequences[room], &event)
            })
            .collect()
    }
}

/// A database and a bus prefix of the scenario's own, removed afterwards.
struct BenchDb {
    name: String,
    pool: PgPool,
    bus: BusConfig,
}

impl BenchDb {
    async fn create() -> anyhow::Result<Self> {
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
            bus: BusConfig {
                amqp_url: AMQP_URL.into(),
                prefix: name.clone(),
            },
            name,
            pool,
        })
    }

    /// Waits until the checkpoints account for `events` events.
    async fn projected(&self, events: i64) -> anyhow::Result<()> {
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

    async fn drop(self) -> anyhow::Result<()> {
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
