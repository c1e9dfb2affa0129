//! The write path over HTTP (S2 and the hot-room goals): durable `POST /rooms/{id}/messages`
//! sequentially, from many clients into one hot room and spread over many rooms, and into a room
//! with a long history. Each figure stands beside a bare single-row `INSERT ... COMMIT` loop at
//! the same concurrency against the same database, measured in the same run.
//!
//! The whole system runs in this process (`chat all`'s router on a random port) against a fresh
//! database, with rate limits off.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Options {
    /// Seconds each timed run lasts.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Messages posted into the long room before it is measured.
    #[arg(long, default_value_t = 100_000)]
    pub history: usize,
    /// Concurrent clients of the hot-room and many-rooms runs.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Rooms of the many-rooms run.
    #[arg(long, default_value_t = 1000)]
    pub rooms: usize,
    /// The PostgreSQL server; the benchmark creates (and drops) a database of its own there.
    #[arg(
        long,
        env = "BENCH_ADMIN_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    )]
    pub admin_url: String,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let database = Database::create(&options.admin_url).await?;
    let measured = measure(&options, &database.url).await;
    database.drop().await?;
    print!("{}", measured?);
    Ok(())
}

async fn measure(options: &Options, database_url: &str) -> anyhow::Result<Report> {
    let seconds = Duration::from_secs(options.seconds);
    let system = System::start(database_url).await?;
    let api = Api::new(&system.address);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(database_url)
        .await?;
    sqlx::query(CREATE_BASELINE).execute(&pool).await?;
    let mut report = Report::default();

    eprintln!("registering {} users", options.clients);
    let mut tokens = Vec::with_capacity(options.clients);
    for n in 0..options.clients {
        tokens.push(api.user(&format!("bench{n}")).await?);
    }
    let owner = tokens[0].clone();

    eprintln!(
        "baselines: INSERT ... COMMIT at concurrency 1 and {}",
        options.clients
    );
    let baseline_one = insert_loop(database_url, 1, seconds).await?;
    let baseline_many = insert_loop(database_url, options.clients, seconds).await?;

    eprintln!("sequential posts into an empty room");
    let empty = api.room(&owner, "sequential").await?;
    let alone = |room: &String| vec![(owner.clone(), vec![room.clone()])];
    let everyone = |room: &String| -> Vec<_> {
        tokens
            .iter()
            .map(|token| (token.clone(), vec![room.clone()]))
            .collect()
    };
    let run = measured(&pool, || drive(&api, alone(&empty), Stop::After(seconds))).await?;
    let goal = "≥ 500/s, p99 ≤ 10 ms";
    report.line("sequential POST, empty room", &run, goal, &baseline_one);

    let clients = options.clients;
    eprintln!("{clients} clients into one hot room");
    let hot = api.room(&owner, "hot").await?;
    api.join_all(&tokens[1..], &hot).await?;
    let run = measured(&pool, || drive(&api, everyone(&hot), Stop::After(seconds))).await?;
    let scenario = format!("{clients} clients, one hot room");
    report.line(&scenario, &run, "≥ 2,000/s", &baseline_many);

    eprintln!("creating {} rooms", options.rooms);
    let mut rooms_of: Vec<Vec<String>> = vec![Vec::new(); clients];
    for n in 0..options.rooms {
        let room = api.room(&tokens[n % clients], &format!("room-{n}")).await?;
        rooms_of[n % clients].push(room);
    }
    eprintln!("{clients} clients over {} rooms", options.rooms);
    let spread = tokens.iter().cloned().zip(rooms_of).collect();
    let run = measured(&pool, || drive(&api, spread, Stop::After(seconds))).await?;
    let scenario = format!("{clients} clients over {} rooms", options.rooms);
    report.line(&scenario, &run, "≥ 2,000/s", &baseline_many);

    eprintln!("filling the long room with {} messages", options.history);
    let long = api.room(&owner, "long").await?;
    api.join_all(&tokens[1..], &long).await?;
    let fill = Stop::Count(options.history);
    let run = measured(&pool, || drive(&api, everyone(&long), fill)).await?;
    let scenario = format!("{clients} clients filling the long room");
    report.line(&scenario, &run, "(setup)", &baseline_many);
    let snapshot: Option<(i64, i32, i32)> = sqlx::query_as(SNAPSHOT_SIZE)
        .bind(&long)
        .fetch_optional(&pool)
        .await?;
    if let Some((sequence, text, stored)) = snapshot {
        report.note(format!(
            "the long room's snapshot (at sequence {sequence}): {} KB of JSON, {} KB stored",
            text / 1024,
            stored / 1024,
        ));
    }

    // Turns, so that whatever else the machine does weighs on both rooms alike.
    eprintln!("sequential posts: a new room and the long room, taking turns");
    let fresh = api.room(&owner, "fresh").await?;
    let turn = Stop::After(seconds / TURNS);
    let mut into_fresh = Run::default();
    let mut into_long = Run::default();
    for _ in 0..TURNS {
        into_fresh.extend(measured(&pool, || drive(&api, alone(&fresh), turn)).await?);
        into_long.extend(measured(&pool, || drive(&api, alone(&long), turn)).await?);
    }
    report.line("sequential POST, new room", &into_fresh, "", &baseline_one);
    let scenario = format!("sequential POST, room past {} events", options.history);
    let goal = "within 20% of the line above";
    report.line(&scenario, &into_long, goal, &baseline_one);
    let ratio =
        |of: fn(&Run) -> Duration| of(&into_long).as_secs_f64() / of(&into_fresh).as_secs_f64();
    report.note(format!(
        "latency, long room / new room: {:.2} at p50, {:.2} in the mean",
        ratio(|run| run.percentile(50.0)),
        ratio(Run::mean),
    ));

    eprintln!("first post after a restart (cold cache): long room and a small one");
    let small = api.room(&owner, "small").await?;
    let mut cold_long = Run::default();
    let mut cold_small = Run::default();
    drop(system);
    for _ in 0..3 {
        let restarted = System::start(database_url).await?;
        let api = Api::new(&restarted.address);
        cold_long.extend(drive(&api, alone(&long), Stop::Count(1)).await?);
        cold_small.extend(drive(&api, alone(&small), Stop::Count(1)).await?);
    }
    report.note(format!(
        "first post after a restart, 3 tries each: long room {} ms, small room {} ms (median)",
        millis(cold_long.percentile(50.0)),
        millis(cold_small.percentile(50.0)),
    ));
    Ok(report)
}

/// Turns each of the new and the long room gets in their comparison.
const TURNS: u32 = 10;

/// Runs `work` and counts the commits it took: events recorded in one transaction share its
/// `recorded_at` (`now()` is the transaction's start).
async fn measured<F, Fut>(pool: &PgPool, work: F) -> anyhow::Result<Run>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Run>>,
{
    let since: i64 = sqlx::query_scalar(LAST_POSITION).fetch_one(pool).await?;
    let mut run = work().await?;
    let (events, commits): (i64, i64) = sqlx::query_as(COMMITS_SINCE)
        .bind(since)
        .fetch_one(pool)
        .await?;
    run.events_per_commit = Some(events as f64 / commits.max(1) as f64);
    Ok(run)
}

const SNAPSHOT_SIZE: &str = "
SELECT last_sequence, octet_length(payload::text), pg_column_size(payload)
  FROM snapshots WHERE aggregate_id = $1";

const LAST_POSITION: &str = "SELECT coalesce(max(position), 0) FROM events";

const COMMITS_SINCE: &str =
    "SELECT count(*), count(DISTINCT recorded_at) FROM events WHERE position > $1";

const CREATE_BASELINE: &str = "
CREATE TABLE bench_baseline
(
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload text NOT NULL
)";

const INSERT_BASELINE: &str = "INSERT INTO bench_baseline (payload) VALUES ($1)";

/// The bare cost of a durable write: one single-row INSERT per transaction, `concurrency` of them
/// at a time, each on its own connection.
async fn insert_loop(
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
    let workers = (0..concurrency).map(|_| {
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
    });
    let mut run = Run::default();
    for worker in futures::future::join_all(workers).await {
        run.latencies.extend(worker??);
    }
    run.elapsed = started.elapsed();
    pool.close().await;
    Ok(run)
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    After(Duration),
    Count(usize),
}

/// Posts from every client, each waiting for its answer before its next post, cycling through
/// its rooms, until `stop`.
async fn drive(api: &Api, clients: Vec<(String, Vec<String>)>, stop: Stop) -> anyhow::Result<Run> {
    let started = Instant::now();
    let deadline = match stop {
        Stop::After(length) => Some(started + length),
        Stop::Count(_) => None,
    };
    let count = match stop {
        Stop::Count(count) => Some(count),
        Stop::After(_) => None,
    };
    let issued = Arc::new(AtomicUsize::new(0));
    let workers = clients.into_iter().map(|(token, rooms)| {
        let api = api.clone();
        let issued = issued.clone();
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
            }
            anyhow::Ok(latencies)
        })
    });
    let mut run = Run::default();
    for worker in futures::future::join_all(workers).await {
        run.latencies.extend(worker??);
    }
    run.elapsed = started.elapsed();
    Ok(run)
}

#[derive(Debug, Default)]
struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
    events_per_commit: Option<f64>,
}

impl Run {
    fn extend(&mut self, other: Run) {
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
        self.events_per_commit = match (self.events_per_commit, other.events_per_commit) {
            (Some(mine), Some(theirs)) => Some((mine + theirs) / 2.0),
            (mine, theirs) => mine.or(theirs),
        };
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn mean(&self) -> Duration {
        self.latencies.iter().sum::<Duration>() / self.latencies.len().max(1) as u32
    }

    fn percentile(&self, percent: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted
            .get(rank.saturating_sub(1))
            .copied()
            .unwrap_or_default()
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

#[derive(Default)]
struct Report {
    lines: Vec<String>,
    notes: Vec<String>,
}

impl Report {
    fn line(&mut self, scenario: &str, run: &Run, goal: &str, baseline: &Run) {
        let per_commit = run
            .events_per_commit
            .map(|per_commit| format!("{per_commit:.1}"))
            .unwrap_or_default();
        let figures = |run: &Run| {
            let (p50, p99) = (run.percentile(50.0), run.percentile(99.0));
            (format!("{:.0}/s", run.rate()), millis(p50), millis(p99))
        };
        let (rate, p50, p99) = figures(run);
        let (base_rate, base_p50, base_p99) = figures(baseline);
        self.lines.push(format!(
            "| {scenario} | {rate} | {p50} | {p99} | {per_commit} | {goal} \
             | {base_rate}, p50 {base_p50} ms, p99 {base_p99} ms |"
        ));
    }

    fn note(&mut self, note: String) {
        self.notes.push(note);
    }
}

const HEADER: &str = "| run | messages | p50 ms | p99 ms | events per commit | goal \
    | baseline: INSERT ... COMMIT, same concurrency |";

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{HEADER}")?;
        writeln!(f, "|---|---|---|---|---|---|---|")?;
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        for note in &self.notes {
            writeln!(f, "\n{note}")?;
        }
        Ok(())
    }
}

/// The whole system (`chat all`) serving in this process until dropped.
struct System {
    address: String,
    _stop: oneshot::Sender<()>,
}

impl System {
    async fn start(database_url: &str) -> anyhow::Result<Self> {
        let cli = chat::Cli::parse_from([
            "chat",
            "all",
            "--database-url",
            database_url,
            "--jwt-secret",
            "bench-secret",
            "--bcrypt-cost",
            "4",
            "--send-rate",
            "0",
            "--login-rate",
            "0",
            "--web-dir",
            "/nonexistent",
        ]);
        let pool = cli.settings.connect().await?;
        eventstore::MIGRATOR.run(&pool).await.context("migrating")?;
        let app = chat::build_app(pool.clone(), &cli.settings)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(error) = chat::serve(listener, app, shutdown).await {
                eprintln!("server stopped: {error:#}");
            }
            pool.close().await;
        });
        Ok(Self {
            address,
            _stop: stop,
        })
    }
}

#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(1024)
                .build()
                .expect("an HTTP client"),
            base: base.to_owned(),
        }
    }

    /// Registers `username` and answers its access token.
    async fn user(&self, username: &str) -> anyhow::Result<String> {
        let password = "bench password";
        let registered = self
            .client
            .post(format!("{}/auth/register", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?;
        ensure!(
            registered.status().is_success(),
            "register: {}",
            registered.status()
        );
        let login: Value = self
            .client
            .post(format!("{}/auth/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(login["access_token"]
            .as_str()
            .context("no token")?
            .to_owned())
    }

    async fn room(&self, token: &str, name: &str) -> anyhow::Result<String> {
        let room: Value = self
            .client
            .post(format!("{}/rooms/", self.base))
            .bearer_auth(token)
            .json(&json!({"name": name, "is_private": false}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(room["id"].as_str().context("no room id")?.to_owned())
    }

    async fn join_all(&self, tokens: &[String], room: &str) -> anyhow::Result<()> {
        for token in tokens {
            self.client
                .post(format!("{}/rooms/{room}/join", self.base))
                .bearer_auth(token)
                .send()
                .await?
                .error_for_status()?;
        }
        Ok(())
    }

    /// Posts a message and checks it was stored (201).
    async fn post(&self, token: &str, room: &str) -> anyhow::Result<()> {
        let response = self
            .client
            .post(format!("{}/rooms/{room}/messages", self.base))
            .bearer_auth(token)
            .json(&json!({
                "content": "a message of an ordinary length, about sixty bytes long",
                "client_msg_id": Uuid::new_v4().to_string(),
            }))
            .send()
            .await?;
        if response.status() != reqwest::StatusCode::CREATED {
            bail!(
                "post answered {}: {}",
                response.status(),
                response.text().await?
            );
        }
        Ok(())
    }
}

/// A database of the benchmark's own, dropped at the end.
struct Database {
    admin: PgPool,
    name: String,
    url: String,
}

impl Database {
    async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let admin = PgPool::connect(admin_url)
            .await
            .context("connecting as admin")?;
        let name = format!("chat_bench_write_path_{}", Uuid::new_v4().simple());
        sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&admin)
            .await?;
        let mut url: reqwest::Url = admin_url.parse().context("admin URL")?;
        url.set_path(&name);
        Ok(Self {
            admin,
            url: url.to_string(),
            name,
        })
    }

    async fn drop(self) -> anyhow::Result<()> {
        sqlx::query(&format!(r#"DROP DATABASE "{}" WITH (FORCE)"#, self.name))
            .execute(&self.admin)
            .await?;
        Ok(())
    }
}
