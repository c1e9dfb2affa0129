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
    reply: oneshot::Sender<Result<(), PersistenceError>>,
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

impl Committer {
    pub(crate) fn new(pool: PgPool, aggregate_type: &'static str, counters: Arc<Counters>) -> Self {
        Self {
            pool,
            aggregate_type,
            counters,
            queue: Mutex::default(),
        }
    }

    /// Stores `rows` (one aggregate's, in sequence order) atomically: `OptimisticLockError` when
    /// another writer took one of their sequences first.
    pub(crate) async fn commit(self: &Arc<Self>, rows: Vec<Row>) -> Result<(), PersistenceError> {
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
            Err(PersistenceError::UnknownError(
                "the committer stopped before answering".into(),
            ))
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
        let together = self
            .insert(batches.iter().flat_map(|batch| &batch.rows))
            .await;
        match together {
            Err(PersistenceError::OptimisticLockError) if batches.len() > 1 => {
                // Some aggregate lost a race; commit each alone to learn which.
                for batch in batches {
                    let alone = self.insert(batch.rows.iter()).await;
                    let _ = batch.reply.send(alone);
                }
            }
            Ok(()) => {
                for batch in batches {
                    let _ = batch.reply.send(Ok(()));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for batch in batches {
                    let _ = batch.reply.send(Err(shared(&error)));
                }
            }
        }
    }

    async fn insert<'a>(
        &self,
        rows: impl Iterator<Item = &'a Row>,
    ) -> Result<(), PersistenceError> {
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
            Err(sqlx::Error::Database(error))
                if error
                    .code()
                    .is_some_and(|code| CONFLICTS.contains(&code.as_ref())) =>
            {
                Err(PersistenceError::OptimisticLockError)
            }
            Err(error) if database_unavailable(&error) => {
                Err(PersistenceError::ConnectionError(Box::new(error)))
            }
            Err(error) => Err(PersistenceError::UnknownError(Box::new(error))),
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
