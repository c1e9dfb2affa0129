use std::sync::{Arc, Mutex};

use cqrs_es::persist::PersistenceError;
use cqrs_es::{Aggregate, EventEnvelope};
use sqlx::PgPool;
use tokio::sync::oneshot;

use crate::aggregates::{Aggregates, Job};
use crate::committer::Committer;
use crate::group_commit;
use crate::stats::ExecutorStats;
use crate::store::Store;
use crate::{CommandMetadata, EventLog, EventLogError, ExecuteError};

/// How an executor trades memory and writes for load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutorOptions {
    /// Events between snapshots of an aggregate; 0 writes none.
    pub snapshot_every: usize,
    /// How many idle aggregates stay in memory, most recently used first; 0 keeps none.
    pub cache_capacity: usize,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        Self {
            snapshot_every: 100,
            cache_capacity: 1000,
        }
    }
}

/// Loads an aggregate, lets it handle a command, and commits what it decided, returning the
/// committed events with their sequences.
///
/// Commands on one aggregate queue in this process and are decided one after the other by a
/// worker, which commits each batch of them atomically (group commit): a busy room costs one
/// commit per batch, not per message, and the batches of different aggregates that are ready
/// together share one INSERT. The worker keeps the aggregate in memory while it runs, and an idle
/// one stays in a bounded cache; a race with another process shows up as a conflict at commit,
/// which drops the copy and retries the batch from the store.
pub struct CommandExecutor<A: Aggregate> {
    aggregates: Arc<Aggregates<A>>,
    log: EventLog,
}

impl<A> CommandExecutor<A>
where
    A: Aggregate + Clone + 'static,
    A::Command: Clone + Send + Sync + 'static,
    A::Error: Send + Sync + 'static,
    A::Services: 'static,
{
    pub fn new(pool: PgPool, services: A::Services) -> Self {
        Self::with_options(pool, services, ExecutorOptions::default())
    }

    pub fn with_options(pool: PgPool, services: A::Services, options: ExecutorOptions) -> Self {
        let store = Store::new(pool.clone(), options.snapshot_every);
        let committer = Committer::new(pool.clone(), A::TYPE, store.counters.clone());
        Self {
            aggregates: Arc::new(Aggregates::new(
                store,
                committer,
                services,
                options.cache_capacity,
            )),
            log: EventLog::new(pool),
        }
    }

    pub fn stats(&self) -> ExecutorStats {
        let waiting = self.aggregates.waiting();
        self.aggregates.store.counters.read(waiting)
    }

    /// One committed event of an aggregate, by its sequence.
    pub async fn event(
        &self,
        aggregate_id: &str,
        sequence: usize,
    ) -> Result<Option<EventEnvelope<A>>, PersistenceError> {
        let stored = self
            .log
            .event(A::TYPE, aggregate_id, sequence as i64)
            .await
            .map_err(persistence_error)?;
        stored
            .map(|stored| {
                let metadata = serde_json::from_value(stored.metadata.clone())?;
                let recorded = stored.decode().map_err(persistence_error)?;
                Ok(EventEnvelope {
                    aggregate_id: aggregate_id.to_owned(),
                    sequence,
                    payload: recorded.event,
                    metadata,
                })
            })
            .transpose()
    }

    /// The aggregate as its committed events leave it: the cached copy brought up to date, or
    /// the latest snapshot and the events after it.
    pub async fn load(&self, aggregate_id: &str) -> Result<A, PersistenceError> {
        let cached = self.aggregates.cached(aggregate_id);
        let loaded = match cached {
            Some(mut loaded) => {
                let read = self
                    .aggregates
                    .store
                    .catch_up(aggregate_id, &mut loaded)
                    .await?;
                if read > 0 {
                    self.aggregates.remember(aggregate_id, loaded.clone());
                }
                loaded
            }
            None => {
                let loaded = self.aggregates.store.load::<A>(aggregate_id).await?;
                self.aggregates.remember(aggregate_id, loaded.clone());
                loaded
            }
        };
        Ok(loaded.aggregate)
    }

    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<Vec<EventEnvelope<A>>, ExecuteError<A::Error>> {
        self.execute_with(aggregate_id, command, metadata, |_| ())
            .await
            .map(|(events, ())| events)
    }

    /// Like [`execute`](Self::execute), and also reads `observe` off the aggregate as the
    /// command left it, before any other command on it can run: "already joined" or "this
    /// message was already posted" are answers found in the state, not in new events. The
    /// executor runs the observer right after the command, on the aggregate itself. When a race
    /// with another process makes the command run again, so does `observe`; the answer is from
    /// the run that committed.
    pub async fn execute_with<T: Send + 'static>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
        observe: impl Fn(&A) -> T + Send + Sync + 'static,
    ) -> Result<(Vec<EventEnvelope<A>>, T), ExecuteError<A::Error>> {
        let seen = Arc::new(Mutex::new(None));
        let slot = seen.clone();
        let (reply, answer) = oneshot::channel();
        let job = Job {
            command,
            metadata: metadata.clone(),
            observe: Box::new(move |aggregate: &A| {
                *slot.lock().expect("observation poisoned") = Some(observe(aggregate));
            }),
            reply,
        };
        self.submit(aggregate_id, job);
        let events = answer
            .await
            .unwrap_or_else(|_| Err(ExecuteError::Store(group_commit::worker_stopped())))?;
        let observed = seen
            .lock()
            .expect("observation poisoned")
            .take()
            .expect("a command that succeeded was observed");
        Ok((events, observed))
    }

    /// Queues `job` for its aggregate's worker, starting one if none runs.
    fn submit(&self, aggregate_id: &str, job: Job<A>) {
        if self.aggregates.enqueue(aggregate_id, job) {
            tokio::spawn(group_commit::drain(
                self.aggregates.clone(),
                aggregate_id.to_owned(),
            ));
        }
    }
}

/// The executor's answers keep cqrs-es's error: a read that failed is the store's fault, one
/// that does not decode the event's.
fn persistence_error(error: EventLogError) -> PersistenceError {
    match error {
        EventLogError::Database(error) => PersistenceError::ConnectionError(Box::new(error)),
        undecodable @ EventLogError::Undecodable { .. } => {
            PersistenceError::DeserializationError(Box::new(undecodable))
        }
    }
}
