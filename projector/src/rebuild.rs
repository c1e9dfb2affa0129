//! Rebuilding the read tables from the whole event store while the system keeps serving, and
//! checking the live tables against such a rebuild.
//!
//! A copy of the projection is built in a schema of its own, in global order, in passes: each
//! pass reads from the horizon the previous one started at, until a pass finds little new. The
//! copy's secondary indexes are built then, several at a time, and one more pass follows; only
//! those that edits, deletions, reactions and replies find their message by come as soon as a
//! batch has one of these.
//! Then, holding the live projection's lock (live projection pauses, reads go on), the last
//! events are applied and the copy is compared with the live tables or moved into `public` in
//! their place. Live projection resumes on the new tables: everything committed is in them, and
//! what the bus still holds is skipped or applied by the checkpoints.

use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use uuid::Uuid;

use bus::EventEnvelope;
use eventstore::log::{Horizon, HorizonPages};
use eventstore::EventLog;

use crate::apply::{apply_in, Incoming};
use crate::changes::finds_message_by_id;
use crate::horizon::advance_horizon;
use crate::numbering::KeptOrdinals;
use crate::poison::apply_isolating_poison;
use crate::sink::LogPoisoned;
use crate::target::{Advanced, Target};
use crate::ProjectorError;

/// The schema `chat rebuild` builds in.
const SHADOW: &str = "projection_rebuild";
/// Keeps two rebuilds (and so two swaps) apart.
const REBUILD_LOCK: i64 = 0x6368_6174_5f72_6562;
/// Events per transaction while building a copy, gathered from the log's pages. Large, because
/// every transaction also rewrites the checkpoint and `last_seq` of each room it touches.
const BATCH: usize = 20_000;
/// Each batch is applied in this many parts at once, each in a transaction on a connection of
/// its own, and the copy's indexes are built this many at a time: most of a rebuild is
/// PostgreSQL's work on the message rows and their indexes, which one connection does on one
/// core. A part holds whole aggregates, and the rows an aggregate's events write are written by
/// no other aggregate's (read positions are their user's, messages and members their room's), so
/// parts never wait for each other's rows.
const PARTS: usize = 2;
/// A pass that finds fewer new events than this ends the building; the rest is applied under
/// the live lock.
const SETTLED: u64 = 2000;
const MAX_PASSES: usize = 10;
/// How long `verify` waits for the live projection to catch up with the store.
const VERIFY_PATIENCE: Duration = Duration::from_secs(15);

/// How far building a copy has come.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Events read from the store so far.
    pub read: u64,
    /// Events the store held when building began (and more, when it grew since).
    pub total: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct RebuildReport {
    pub events: u64,
    pub elapsed: Duration,
}

/// Rebuilds every read table from the event store and swaps the result into `public`.
pub async fn rebuild(
    pool: &PgPool,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<RebuildReport, ProjectorError> {
    let started = std::time::Instant::now();
    let lock = RebuildLock::take(pool).await?;
    let (horizon, read) = build_copy(pool, SHADOW, &mut progress).await?;
    let mut transaction = pool.begin().await?;
    let target = Target::live();
    target.enter(&mut transaction).await?;
    finish_copy(&mut transaction, SHADOW, &horizon).await?;
    sqlx::query(SWAP_IN)
        .bind(SHADOW)
        .execute(&mut *transaction)
        .await?;
    target
        .committing(&mut transaction, Advanced::Everything)
        .await?;
    transaction.commit().await?;
    lock.release().await?;
    Ok(RebuildReport {
        events: read,
        elapsed: started.elapsed(),
    })
}

const SWAP_IN: &str = "SELECT public.projection_swap_in($1)";

/// One table of the live projection beside its rebuilt copy.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TableComparison {
    pub table_name: String,
    pub live_rows: i64,
    pub copy_rows: i64,
    pub live_checksum: String,
    pub copy_checksum: String,
}

impl TableComparison {
    pub fn matches(&self) -> bool {
        self.live_rows == self.copy_rows && self.live_checksum == self.copy_checksum
    }
}

/// A row found on one side only.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Difference {
    pub table_name: String,
    /// `live only` or `rebuilt only`.
    pub side: String,
    pub row_text: String,
}

#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub events: u64,
    pub tables: Vec<TableComparison>,
    /// A few rows of each table that differs, to start looking.
    pub differences: Vec<Difference>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.tables.iter().all(TableComparison::matches)
    }
}

/// Rebuilds the projection into a scratch schema and compares it with the live tables.
pub async fn verify(
    pool: &PgPool,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<VerifyReport, ProjectorError> {
    let scratch = format!("projection_verify_{}", Uuid::new_v4().simple());
    let report = verify_in(pool, &scratch, &mut progress).await;
    sqlx::query(DROP_COPY).bind(&scratch).execute(pool).await?;
    report
}

const DROP_COPY: &str = "SELECT public.projection_drop_copy($1)";

async fn verify_in(
    pool: &PgPool,
    scratch: &str,
    progress: &mut (impl FnMut(Progress) + Send),
) -> Result<VerifyReport, ProjectorError> {
    let (mut horizon, events) = build_copy(pool, scratch, progress).await?;
    let deadline = tokio::time::Instant::now() + VERIFY_PATIENCE;
    loop {
        let mut transaction = pool.begin().await?;
        Target::live().enter(&mut transaction).await?;
        horizon = finish_copy(&mut transaction, scratch, &horizon).await?;
        let tables: Vec<TableComparison> = sqlx::query_as(COMPARE)
            .bind(scratch)
            .fetch_all(&mut *transaction)
            .await?;
        // The live tables may still lack events the bus has not delivered yet: wait for them
        // (with the lock released) before calling a difference a difference.
        let live_behind = tables
            .iter()
            .any(|table| table.table_name == "projection_checkpoints" && !table.matches());
        if !live_behind || tokio::time::Instant::now() >= deadline {
            let mut differences = Vec::new();
            for table in tables.iter().filter(|table| !table.matches()) {
                let rows: Vec<(String, String)> = sqlx::query_as(DIFFERENCES)
                    .bind(scratch)
                    .bind(&table.table_name)
                    .fetch_all(&mut *transaction)
                    .await?;
                differences.extend(rows.into_iter().map(|(side, row_text)| Difference {
                    table_name: table.table_name.clone(),
                    side,
                    row_text,
                }));
            }
            transaction.commit().await?;
            return Ok(VerifyReport {
                events,
                tables,
                differences,
            });
        }
        transaction.commit().await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const COMPARE: &str = "SELECT * FROM public.projection_compare($1)";
const DIFFERENCES: &str = "SELECT * FROM public.projection_differences($1, $2, 5)";

/// Builds a fresh copy of the projection in `schema` from the store, pass after pass, until a
/// pass finds little new. Answers the horizon to finish from, and how many events were read.
async fn build_copy(
    pool: &PgPool,
    schema: &str,
    progress: &mut (impl FnMut(Progress) + Send),
) -> Result<(Horizon, u64), ProjectorError> {
    sqlx::query(CREATE_COPY).bind(schema).execute(pool).await?;
    let mut state = Progress {
        read: 0,
        total: EventLog::new(pool.clone()).count().await?,
    };
    progress(state);
    let target = Target::copy(schema);
    let mut since = Horizon::start();
    for _ in 0..MAX_PASSES {
        let (horizon, read) = pass(pool, &target, since, &mut state, progress).await?;
        since = horizon;
        if read < SETTLED {
            break;
        }
    }
    index_copy(pool, schema).await?;
    // What was written while the indexes were built.
    let (horizon, _) = pass(pool, &target, since, &mut state, progress).await?;
    Ok((horizon, state.read))
}

/// Sends batches of the events at or after horizon `since` until there are no more, or no one
/// takes them.
async fn read_batches(
    pool: PgPool,
    since: Horizon,
    batches: mpsc::Sender<Vec<EventEnvelope>>,
) -> Result<(), ProjectorError> {
    let mut pages = HorizonPages::all(since);
    loop {
        let mut connection = pool.acquire().await?;
        let batch = next_batch(&mut EventLog::on(&mut connection), &mut pages).await?;
        if batch.is_empty() || batches.send(batch).await.is_err() {
            return Ok(());
        }
    }
}

/// Up to [`BATCH`] events of `pages`, page after page; empty at the end.
async fn next_batch(
    log: &mut eventstore::log::ConnectionLog<'_>,
    pages: &mut HorizonPages,
) -> Result<Vec<EventEnvelope>, ProjectorError> {
    let mut batch = Vec::new();
    while batch.len() < BATCH {
        let page = log.next_page(pages).await?;
        if page.is_empty() {
            break;
        }
        batch.extend(page);
    }
    Ok(batch)
}

/// Applies every event of a transaction at or after `since` to the copy, in global order;
/// answers the horizon the next pass starts from, and how many events this one read.
async fn pass(
    pool: &PgPool,
    target: &Target,
    since: Horizon,
    state: &mut Progress,
    progress: &mut (impl FnMut(Progress) + Send),
) -> Result<(Horizon, u64), ProjectorError> {
    let horizon = EventLog::on(&mut *pool.acquire().await?)
        .current_horizon()
        .await?;
    // The next batch is read while this one is applied.
    let (batches, mut arriving) = mpsc::channel(2);
    let reader = tokio::spawn(read_batches(pool.clone(), since, batches));
    let mut read_in_pass = 0;
    while let Some(batch) = arriving.recv().await {
        let read = batch.len() as u64;
        if batch.iter().any(finds_message_by_id) {
            sqlx::query(COPY_LOOKUP_INDEXES)
                .bind(target.schema())
                .execute(pool)
                .await?;
        }
        let mut parts = JoinSet::new();
        for part in split(batch) {
            let (pool, target) = (pool.clone(), target.clone());
            // As the live projector does, so that the copy leaves out what the live tables do.
            parts.spawn(async move {
                apply_isolating_poison(&pool, &target, &part, &mut LogPoisoned).await
            });
        }
        while let Some(applied) = parts.join_next().await {
            applied.expect("applying a part does not panic")?;
        }
        read_in_pass += read;
        state.read += read;
        state.total = state.total.max(state.read);
        progress(*state);
    }
    reader.await.expect("the batch reader does not panic")?;
    Ok((horizon, read_in_pass))
}

/// Splits a batch into up to [`PARTS`] parts of whole aggregates, each in the batch's order.
fn split(batch: Vec<EventEnvelope>) -> impl Iterator<Item = Vec<Incoming>> {
    let mut parts: Vec<Vec<Incoming>> = (0..PARTS).map(|_| Vec::new()).collect();
    for envelope in batch {
        let mut hasher = DefaultHasher::new();
        (&envelope.aggregate_type, &envelope.aggregate_id).hash(&mut hasher);
        parts[(hasher.finish() % PARTS as u64) as usize].push(Incoming::from(envelope));
    }
    parts.into_iter().filter(|part| !part.is_empty())
}

/// Gives the copy in `schema` every secondary index the live tables have, [`PARTS`] builds at
/// a time, each on a connection of its own.
async fn index_copy(pool: &PgPool, schema: &str) -> Result<(), ProjectorError> {
    let statements: Vec<String> = sqlx::query_scalar(COPY_INDEXES)
        .bind(schema)
        .fetch_all(pool)
        .await?;
    let waiting = Arc::new(Mutex::new(VecDeque::from(statements)));
    let mut builders = JoinSet::new();
    for _ in 0..PARTS {
        builders.spawn(build_indexes(pool.clone(), waiting.clone()));
    }
    while let Some(built) = builders.join_next().await {
        built.expect("building indexes does not panic")?;
    }
    Ok(())
}

/// Runs the `waiting` index statements one after another, until none is left.
async fn build_indexes(
    pool: PgPool,
    waiting: Arc<Mutex<VecDeque<String>>>,
) -> Result<(), ProjectorError> {
    loop {
        let Some(statement) = waiting.lock().expect("not poisoned").pop_front() else {
            return Ok(());
        };
        sqlx::raw_sql(&statement).execute(&pool).await?;
    }
}

const COPY_INDEXES: &str = "SELECT public.projection_copy_indexes($1)";

/// The indexes an event that finds a message by id needs; built on the copy as soon as one
/// comes (see migration 0088).
const COPY_LOOKUP_INDEXES: &str = "SELECT public.projection_copy_lookup_indexes($1)";

const CREATE_COPY: &str = "SELECT public.projection_create_copy($1)";

/// Applies to the copy in `schema` every event committed at or after `since`, inside the
/// caller's transaction (which holds the live lock, so the live tables stand still), and
/// records the horizon a live catch-up on the copy would start from. Answers that horizon.
async fn finish_copy(
    transaction: &mut PgConnection,
    schema: &str,
    since: &Horizon,
) -> Result<Horizon, ProjectorError> {
    let horizon = EventLog::on(&mut *transaction).current_horizon().await?;
    sqlx::query(ENTER_COPY)
        .bind(schema)
        .execute(&mut *transaction)
        .await?;
    let mut pages = HorizonPages::all(since.clone());
    let ordinals = KeptOrdinals::looking_up();
    loop {
        let batch = next_batch(&mut EventLog::on(&mut *transaction), &mut pages).await?;
        if batch.is_empty() {
            break;
        }
        let incoming: Vec<Incoming> = batch.into_iter().map(Incoming::from).collect();
        // Looked up in the tables: the copy has all its indexes by now.
        apply_in(&mut *transaction, &incoming, &ordinals, &mut LogPoisoned).await?;
    }
    advance_horizon(&mut *transaction, &horizon).await?;
    Ok(horizon)
}

const ENTER_COPY: &str = "SELECT set_config('search_path', $1, true)";

/// A session-level advisory lock on a connection of its own: released when the rebuild ends,
/// or when its process dies.
struct RebuildLock {
    connection: PgConnection,
}

impl RebuildLock {
    async fn take(pool: &PgPool) -> Result<Self, ProjectorError> {
        let mut connection = PgConnection::connect_with(&pool.connect_options()).await?;
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(REBUILD_LOCK)
            .fetch_one(&mut connection)
            .await?;
        if !taken {
            return Err(ProjectorError::RebuildRunning);
        }
        Ok(Self { connection })
    }

    async fn release(self) -> Result<(), ProjectorError> {
        self.connection.close().await?;
        Ok(())
    }
}
