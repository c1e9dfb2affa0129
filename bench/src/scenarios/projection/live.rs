//! S5's live half: a backlog drained, then the lag from a write's commit to the projector's
//! commit that made it visible, at two steady rates.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bus::relay::RelaySettings;
use bus::{AmqpFeed, AmqpPublisher};
use projector::ProjectorSettings;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use testkit::seed::{self, Shape};
use tokio_util::sync::CancellationToken;

use super::database::BenchDb;
use super::rooms::Rooms;
use super::{load_average, raw_scan};
use crate::report::percentiles;
use crate::{Figure, Goal, ScenarioReport};

/// Rooms the live load is spread over.
const ROOMS: usize = 500;
/// Live load: concurrent writers, each committing a transaction of messages every tick (as
/// concurrent clients' commits are grouped by the store).
const WRITERS: usize = 4;
const WRITER_TICK: Duration = Duration::from_millis(20);

pub(super) async fn run(scale: usize) -> anyhow::Result<ScenarioReport> {
    let load_before = load_average();
    let db = BenchDb::create().await?;
    let setup = seed::history(&Shape {
        users: 100,
        rooms: ROOMS,
        members_per_room: 0,
        messages: 0,
        changed_messages: 0,
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
        projector::ProjectionLag::default(),
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
    let bar = crate::scenarios::timed(Duration::from_secs(seconds as u64), "steady writes");
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
        let checkpoints = room_checkpoints(&db.pool).await?;
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
        let checkpoints = room_checkpoints(&pool).await?;
        let now = Instant::now();
        for (room, upto) in checkpoints {
            let history = seen.entry(room).or_default();
            if history.last().is_none_or(|(last, _)| *last < upto) {
                history.push((upto, now));
            }
        }
    }
}

/// Each room's projection checkpoint: the last sequence its read rows show.
async fn room_checkpoints(pool: &PgPool) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(ROOM_CHECKPOINTS).fetch_all(pool).await
}

const ROOM_CHECKPOINTS: &str =
    "SELECT aggregate_id, last_seq FROM projection_checkpoints WHERE aggregate_type = 'Room'";
