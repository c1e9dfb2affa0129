//! Commits the batches of every aggregate of an executor together: whatever batches are ready
//! while a commit runs go into the next one, as one multi-row INSERT.
//!
//! Committing rooms one transaction each does not scale: the outbox trigger NOTIFYs, and
//! PostgreSQL serialises the commits of notifying transactions behind one lock held through
//! their WAL flush, so such commits run one at a time, whatever the number of connections
//! (measured: writers of different rooms spent most of their time waiting on `Lock:object`
//! at COMMIT). Sharing commits between rooms is what lifts that ceiling.

use std::sync::{Arc, Mutex};

use cqrs_es::persist::PersistenceError;
use sqlx::postgres::PgDatabaseError;
use sqlx::PgPool;
use tokio::sync::oneshot;

use crate::error::database_unavailable;
use crate::stats::Counters;

/// One event, ready to store.
pub(crate) struct Row {
    pub(crate) aggregate_id: String,
    pub(crate) sequence: i64,
    pub(crate) event_type: String,
    pub(crate) event_version: String,
    pub(crate) payload: String,
    pub(crate) metadata: String,
}

pub(crate) struct Committer {
    pool: PgPool,
    aggregate_type: &'static str,
    counters: Arc<Counters>,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Batch>,
    running: bool,
}

/// The events of one aggregate's batch, stored all or none.
struct Batch {
    rows: Vec<Row>,
    reply: oneshot::Sender<Result<(), CommitError>>,
}

/// Why a commit stored nothing.
pub(crate) enum CommitError {
    /// Another writer took one of the sequences first.
    Conflict,
    /// A rule the database keeps beyond the aggregate's sight refused some of the events (see
    /// [`REFUSED`]), and with them the whole statement.
    Refused(Refusal),
    Failed(PersistenceError),
}

/// The database's refusal of a commit: its reason, and the events it refused, each as
/// `(aggregate id, sequence)`.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) reason: String,
    pub(crate) events: Vec<(String, i64)>,
}

impl Refusal {
    /// Reads the trigger's error: the events it refused come in its detail, a line each of the
    /// aggregate id and the sequence. A refusal that names none refuses every event.
    fn read(error: &dyn sqlx::error::DatabaseError) -> Self {
        let detail = error
            .try_downcast_ref::<PgDatabaseError>()
            .and_then(PgDatabaseError::detail)
            .unwrap_or_default();
        let events = detail
            .lines()
            .filter_map(|line| {
                let (aggregate_id, sequence) = line.split_once(' ')?;
                Some((aggregate_id.to_owned(), sequence.parse().ok()?))
            })
            .collect();
        Self {
            reason: error.message().to_owned(),
            events,
        }
    }

    /// Whether the refusal covers any of `rows`.
    pub(crate) fn names_any(&self, rows: &[Row]) -> bool {
        rows.iter()
            .any(|row| self.names(&row.aggregate_id, row.sequence))
    }

    /// Whether the refusal covers the event `sequence` of `aggregate_id`.
    pub(crate) fn names(&self, aggregate_id: &str, sequence: i64) -> bool {
        self.events.is_empty()
            || self
                .events
                .iter()
                .any(|(id, refused)| id == aggregate_id && *refused == sequence)
    }
}

/// One statement is one transaction, with its outbox rows written by the trigger. postgres-es's
/// `persist` would take a round trip per event.
const INSERT_EVENTS: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT $1, e.aggregate_id, e.sequence, e.event_type, e.event_version, e.payload::json, e.metadata::json
  FROM UNNEST($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
       AS e (aggregate_id, sequence, event_type, event_version, payload, metadata)";

/// A sequence someone else took first, or a deadlock between two processes' commits.
const CONFLICTS: [&str; 2] = ["23505", "40P01"];

/// The SQLSTATE a trigger on `events` raises to refuse what a statement would store: a rule kept
/// by the database beyond what an aggregate holds in memory, such as a `client_msg_id` sent a day
/// ago. Its detail names the refused events (see [`Refusal::read`]).
const REFUSED: &str = "ES001";

impl Committer {
    pub(crate) fn new(pool: PgPool, aggregate_type: &'static str, counters: Arc<Counters>) -> Self {
        Self {
            pool,
            aggregate_type,
            counters,
            queue: Mutex::default(),
        }
    }

    /// Stores `rows` (one aggregate's, in sequence order) atomically.
    pub(crate) async fn commit(self: &Arc<Self>, rows: Vec<Row>) -> Result<(), CommitError> {
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut queue = self.queue.lock().expect("commit queue poisoned");
            queue.waiting.push(Batch { rows, reply });
            !std::mem::replace(&mut queue.running, true)
        };
        if lead {
            // Nobody is committing: commit here, sparing a wake-up of another task (on a busy
            // machine each one waits for a core), and leave what queues meanwhile to a drain.
            // Callers are aggregate workers, spawned tasks that are never cancelled midway.
            let mut running = Running(self, false);
            let batches =
                std::mem::take(&mut self.queue.lock().expect("commit queue poisoned").waiting);
            self.commit_together(batches).await;
            let more = {
                let mut queue = self.queue.lock().expect("commit queue poisoned");
                queue.running = !queue.waiting.is_empty();
                queue.running
            };
            running.1 = true;
            if more {
                tokio::spawn(self.clone().drain());
            }
        }
        answer.await.unwrap_or_else(|_| {
            Err(CommitError::Failed(PersistenceError::UnknownError(
                "the committer stopped before answering".into(),
            )))
        })
    }

    async fn drain(self: Arc<Self>) {
        let mut running = Running(&self, false);
        loop {
            let batches = {
                let mut queue = self.queue.lock().expect("commit queue poisoned");
                if queue.waiting.is_empty() {
                    queue.running = false;
                    running.1 = true;
                    return;
                }
                std::mem::take(&mut queue.waiting)
            };
            self.commit_together(batches).await;
        }
    }

    async fn commit_together(&self, mut batches: Vec<Batch>) {
        // Two processes inserting rows of the same rooms in the same order cannot deadlock.
        batches.sort_by(|a, b| a.rows[0].aggregate_id.cmp(&b.rows[0].aggregate_id));
        loop {
            let together = self
                .insert(batches.iter().flat_map(|batch| &batch.rows))
                .await;
            match together {
                Err(CommitError::Refused(refused)) if batches.len() > 1 => {
                    // The store named the events it refused: their batches are refused, and the
                    // others, stored no more than they, go again together.
                    let (theirs, others): (Vec<_>, Vec<_>) = batches
                        .into_iter()
                        .partition(|batch| refused.names_any(&batch.rows));
                    // One that named none of them refuses them all, rather than trying forever.
                    let (theirs, others) = if theirs.is_empty() {
                        (others, Vec::new())
                    } else {
                        (theirs, others)
                    };
                    for batch in theirs {
                        let _ = batch.reply.send(Err(CommitError::Refused(refused.clone())));
                    }
                    batches = others;
                    if batches.is_empty() {
                        return;
                    }
                }
                Err(CommitError::Conflict) if batches.len() > 1 => {
                    // Some aggregate lost a race; commit each alone to learn which.
                    for batch in batches {
                        let alone = self.insert(batch.rows.iter()).await;
                        let _ = batch.reply.send(alone);
                    }
                    return;
                }
                Err(CommitError::Failed(error)) => {
                    let error = Arc::new(error);
                    for batch in batches {
                        let _ = batch.reply.send(Err(CommitError::Failed(shared(&error))));
                    }
                    return;
                }
                Ok(()) => {
                    for batch in batches {
                        let _ = batch.reply.send(Ok(()));
                    }
                    return;
                }
                Err(alone) => {
                    // The only batch lost a race or was refused.
                    if let Some(batch) = batches.into_iter().next() {
                        let _ = batch.reply.send(Err(alone));
                    }
                    return;
                }
            }
        }
    }

    async fn insert<'a>(&self, rows: impl Iterator<Item = &'a Row>) -> Result<(), CommitError> {
        let mut columns = Columns::default();
        for row in rows {
            columns.push(row);
        }
        Counters::bump(&self.counters.commits);
        let inserted = sqlx::query(INSERT_EVENTS)
            .bind(self.aggregate_type)
            .bind(columns.aggregate_ids)
            .bind(columns.sequences)
            .bind(columns.event_types)
            .bind(columns.event_versions)
            .bind(columns.payloads)
            .bind(columns.metadata)
            .execute(&self.pool)
            .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some(REFUSED) => {
                Err(CommitError::Refused(Refusal::read(error.as_ref())))
            }
            Err(sqlx::Error::Database(error))
                if error
                    .code()
                    .is_some_and(|code| CONFLICTS.contains(&code.as_ref())) =>
            {
                Err(CommitError::Conflict)
            }
            Err(error) if database_unavailable(&error) => Err(CommitError::Failed(
                PersistenceError::ConnectionError(Box::new(error)),
            )),
            Err(error) => Err(CommitError::Failed(PersistenceError::UnknownError(
                Box::new(error),
            ))),
        }
    }
}

#[derive(Default)]
struct Columns<'a> {
    aggregate_ids: Vec<&'a str>,
    sequences: Vec<i64>,
    event_types: Vec<&'a str>,
    event_versions: Vec<&'a str>,
    payloads: Vec<&'a str>,
    metadata: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    fn push(&mut self, row: &'a Row) {
        self.aggregate_ids.push(&row.aggregate_id);
        self.sequences.push(row.sequence);
        self.event_types.push(&row.event_type);
        self.event_versions.push(&row.event_version);
        self.payloads.push(&row.payload);
        self.metadata.push(&row.metadata);
    }
}

/// Lets the next commit start a new drain when this one stopped early (a panic), answering the
/// batches it held with an error as their reply channels drop.
struct Running<'a>(&'a Committer, bool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.1 {
            if let Ok(mut queue) = self.0.queue.lock() {
                queue.running = false;
                queue.waiting.clear();
            }
        }
    }
}

/// One store failure, answered to every command it failed.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct Shared(Arc<PersistenceError>);

pub(crate) fn shared(error: &Arc<PersistenceError>) -> PersistenceError {
    let copy = Box::new(Shared(error.clone()));
    match **error {
        PersistenceError::OptimisticLockError => PersistenceError::OptimisticLockError,
        PersistenceError::ConnectionError(_) => PersistenceError::ConnectionError(copy),
        PersistenceError::DeserializationError(_) => PersistenceError::DeserializationError(copy),
        PersistenceError::UnknownError(_) => PersistenceError::UnknownError(copy),
    }
}
