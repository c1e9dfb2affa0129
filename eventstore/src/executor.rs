use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cqrs_es::persist::PersistenceError;
use cqrs_es::{Aggregate, EventEnvelope};
use hashlink::LruCache;
use sqlx::PgPool;
use tokio::sync::oneshot;

use crate::committer::Committer;
use crate::group_commit::{self, Job};
use crate::stats::{Counters, ExecutorStats};
use crate::store::{Loaded, Store};
use crate::CommandMetadata;

#[derive(Debug, thiserror::Error)]
pub enum ExecuteError<E: std::error::Error> {
    /// The aggregate refused the command.
    #[error(transparent)]
    Domain(E),
    /// Other writers kept winning the race for this aggregate.
    #[error("the aggregate kept changing under the command; try again")]
    Contended,
    /// The database failed or a stored event could not be read back.
    #[error("event store: {0}")]
    Store(PersistenceError),
}

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
    inner: Arc<Inner<A>>,
}

pub(crate) struct Inner<A: Aggregate> {
    pub(crate) store: Store,
    pub(crate) committer: Arc<Committer>,
    pub(crate) services: A::Services,
    pub(crate) cache: Mutex<LruCache<String, Loaded<A>>>,
    /// Commands waiting for the worker of their aggregate; an entry exists while one runs.
    pub(crate) queues: Mutex<HashMap<String, Vec<Job<A>>>>,
}

const SELECT_EVENT: &str = "
SELECT payload, metadata FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3";

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
        let committer = Committer::new(pool, A::TYPE, store.counters.clone());
        Self {
            inner: Arc::new(Inner {
                store,
                committer: Arc::new(committer),
                services,
                cache: Mutex::new(LruCache::new(options.cache_capacity)),
                queues: Mutex::default(),
            }),
        }
    }

    pub fn stats(&self) -> ExecutorStats {
        let waiting = self
            .inner
            .queues
            .lock()
            .expect("command queues poisoned")
            .values()
            .map(|queue| queue.len() as u64)
            .sum();
        self.inner.store.counters.read(waiting)
    }

    /// One committed event of an aggregate, by its sequence.
    pub async fn event(
        &self,
        aggregate_id: &str,
        sequence: usize,
    ) -> Result<Option<EventEnvelope<A>>, PersistenceError> {
        let row: Option<(serde_json::Value, serde_json::Value)> = sqlx::query_as(SELECT_EVENT)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(sequence as i64)
            .fetch_optional(self.inner.store.pool())
            .await
            .map_err(|error| PersistenceError::ConnectionError(Box::new(error)))?;
        row.map(|(payload, metadata)| {
            Ok(EventEnvelope {
                aggregate_id: aggregate_id.to_owned(),
                sequence,
                payload: serde_json::from_value(payload)?,
                metadata: serde_json::from_value(metadata)?,
            })
        })
        .transpose()
    }

    /// The aggregate as its committed events leave it: the cached copy brought up to date, or
    /// the latest snapshot and the events after it.
    pub async fn load(&self, aggregate_id: &str) -> Result<A, PersistenceError> {
        let cached = self.inner.cached(aggregate_id);
        let loaded = match cached {
            Some(mut loaded) => {
                let read = self.inner.store.catch_up(aggregate_id, &mut loaded).await?;
                if read > 0 {
                    self.inner.remember(aggregate_id, loaded.clone());
                }
                loaded
            }
            None => {
                let loaded = self.inner.store.load::<A>(aggregate_id).await?;
                self.inner.remember(aggregate_id, loaded.clone());
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

    /// Like [`execute`](Self::execute), and also reads `observe` off the aggregate as the command
    /// left it, before any other command on it can run: "already joined" or "this message was
    /// already posted" are answers found in the state, not in new events.
    ///
    /// This copies the aggregate for the observer; [`execute_with`](Self::execute_with) does not.
    pub async fn execute_then<T>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
        observe: impl FnOnce(&A) -> T,
    ) -> Result<(Vec<EventEnvelope<A>>, T), ExecuteError<A::Error>> {
        let (events, aggregate) = self
            .execute_with(aggregate_id, command, metadata, A::clone)
            .await?;
        Ok((events, observe(&aggregate)))
    }

    /// Like [`execute_then`](Self::execute_then), with the observer run by the executor right
    /// after the command, on the aggregate itself. When a race with another process makes the
    /// command run again, so does `observe`; the answer is from the run that committed.
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
        let mut queues = self.inner.queues.lock().expect("command queues poisoned");
        if let Some(queue) = queues.get_mut(aggregate_id) {
            queue.push(job);
            return;
        }
        queues.insert(aggregate_id.to_owned(), vec![job]);
        drop(queues);
        tokio::spawn(group_commit::drain(
            self.inner.clone(),
            aggregate_id.to_owned(),
        ));
    }
}

impl<A: Aggregate + Clone> Inner<A> {
    /// A copy of the cached aggregate, if any.
    fn cached(&self, aggregate_id: &str) -> Option<Loaded<A>> {
        let mut cache = self.cache.lock().expect("aggregate cache poisoned");
        let loaded = cache.get(aggregate_id).cloned();
        if loaded.is_some() {
            Counters::bump(&self.store.counters.cache_hits);
        }
        loaded
    }

    /// Takes the cached aggregate out, for a worker to own while it runs.
    pub(crate) fn check_out(&self, aggregate_id: &str) -> Option<Loaded<A>> {
        let loaded = self
            .cache
            .lock()
            .expect("aggregate cache poisoned")
            .remove(aggregate_id);
        if loaded.is_some() {
            Counters::bump(&self.store.counters.cache_hits);
        }
        loaded
    }

    /// Caches `loaded` unless a newer copy is already there.
    pub(crate) fn remember(&self, aggregate_id: &str, loaded: Loaded<A>) {
        let mut cache = self.cache.lock().expect("aggregate cache poisoned");
        let newer_cached = cache
            .peek(aggregate_id)
            .is_some_and(|cached| cached.sequence > loaded.sequence);
        if !newer_cached {
            cache.insert(aggregate_id.to_owned(), loaded);
        }
    }
}
