//! What an executor holds of its aggregates: idle ones in a bounded cache, and the commands
//! queued for busy ones, whose workers own their aggregate while they run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cqrs_es::{Aggregate, EventEnvelope};
use hashlink::LruCache;
use tokio::sync::oneshot;

use crate::committer::Committer;
use crate::stats::Counters;
use crate::store::{Loaded, Store};
use crate::{CommandMetadata, ExecuteError};

pub(crate) type Answer<A> = Result<Vec<EventEnvelope<A>>, ExecuteError<<A as Aggregate>::Error>>;

/// A command waiting for its aggregate's worker.
pub(crate) struct Job<A: Aggregate> {
    pub(crate) command: A::Command,
    pub(crate) metadata: CommandMetadata,
    /// Runs right after the command succeeded, on the aggregate it left.
    pub(crate) observe: Box<dyn Fn(&A) + Send + Sync>,
    pub(crate) reply: oneshot::Sender<Answer<A>>,
}

pub(crate) struct Aggregates<A: Aggregate> {
    pub(crate) store: Store,
    pub(crate) committer: Arc<Committer>,
    pub(crate) services: A::Services,
    cache: Mutex<LruCache<String, Loaded<A>>>,
    /// Commands waiting for the worker of their aggregate; an entry exists while one runs.
    queues: Mutex<HashMap<String, Vec<Job<A>>>>,
}

impl<A: Aggregate + Clone> Aggregates<A> {
    pub(crate) fn new(
        store: Store,
        committer: Committer,
        services: A::Services,
        cache_capacity: usize,
    ) -> Self {
        Self {
            store,
            committer: Arc::new(committer),
            services,
            cache: Mutex::new(LruCache::new(cache_capacity)),
            queues: Mutex::default(),
        }
    }

    /// Commands queued behind a running batch.
    pub(crate) fn waiting(&self) -> u64 {
        self.queues
            .lock()
            .expect("command queues poisoned")
            .values()
            .map(|queue| queue.len() as u64)
            .sum()
    }

    /// Queues `job` for its aggregate; true when no worker runs for it, so the caller must
    /// start one.
    pub(crate) fn enqueue(&self, aggregate_id: &str, job: Job<A>) -> bool {
        let mut queues = self.queues.lock().expect("command queues poisoned");
        if let Some(queue) = queues.get_mut(aggregate_id) {
            queue.push(job);
            return false;
        }
        queues.insert(aggregate_id.to_owned(), vec![job]);
        true
    }

    /// The jobs queued since the worker last looked. When there are none the worker stops: its
    /// aggregate, `current`, goes back to the cache and the queue goes, both under the queue's
    /// lock, so a command queued meanwhile starts a new worker that finds the aggregate cached.
    pub(crate) fn next_jobs(
        &self,
        aggregate_id: &str,
        current: &mut Option<Loaded<A>>,
    ) -> Option<Vec<Job<A>>> {
        let mut queues = self.queues.lock().expect("command queues poisoned");
        let queue = queues.get_mut(aggregate_id).map(std::mem::take);
        match queue {
            Some(jobs) if !jobs.is_empty() => Some(jobs),
            _ => {
                if let Some(loaded) = current.take() {
                    self.remember(aggregate_id, loaded);
                }
                queues.remove(aggregate_id);
                None
            }
        }
    }

    /// A copy of the cached aggregate, if any.
    pub(crate) fn cached(&self, aggregate_id: &str) -> Option<Loaded<A>> {
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

    /// Caches `loaded` unless a newer copy is already there. An aggregate with no events is not
    /// cached: ids of aggregates that do not exist are the client's to choose, and caching them
    /// would let bogus ids evict the busy ones.
    pub(crate) fn remember(&self, aggregate_id: &str, loaded: Loaded<A>) {
        if loaded.sequence == 0 {
            return;
        }
        let mut cache = self.cache.lock().expect("aggregate cache poisoned");
        let newer_cached = cache
            .peek(aggregate_id)
            .is_some_and(|cached| cached.sequence > loaded.sequence);
        if !newer_cached {
            cache.insert(aggregate_id.to_owned(), loaded);
        }
    }
}

impl<A: Aggregate> Aggregates<A> {
    /// Removes the queue of a worker that stopped early, so the next command starts a new
    /// worker instead of waiting forever.
    pub(crate) fn abandon(&self, aggregate_id: &str) {
        if let Ok(mut queues) = self.queues.lock() {
            queues.remove(aggregate_id);
        }
    }
}
