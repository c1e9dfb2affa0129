//! The worker of one aggregate: it takes every command queued for it, decides them one after the
//! other on its in-memory copy, and commits all their events atomically (through the committer,
//! which may carry other aggregates' batches in the same INSERT). Commands that arrive meanwhile
//! form the next batch, so a caller waits for at most one batch of its aggregate ahead of its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistenceError;
use cqrs_es::{Aggregate, DomainEvent, EventEnvelope};
use rand::Rng;

use crate::aggregates::{Aggregates, Job};
use crate::committer::{shared, CommitError, Row};
use crate::stats::Counters;
use crate::store::Loaded;
use crate::{CommandMetadata, ExecuteError};

/// How long a batch keeps retrying while other processes win the race for its aggregate. Within
/// one process commands on an aggregate never race, so only cross-process races retry; a random,
/// growing pause between tries keeps two busy writers from colliding forever.
const RETRY_BUDGET: Duration = Duration::from_secs(10);

/// Serves the queue of `aggregate_id` until it is empty, then caches the aggregate and stops.
pub(crate) async fn drain<A>(aggregates: Arc<Aggregates<A>>, aggregate_id: String)
where
    A: Aggregate + Clone,
    A::Command: Clone,
{
    let mut turn = Turn {
        aggregates: &aggregates,
        aggregate_id: &aggregate_id,
        done: false,
    };
    let mut current = aggregates.check_out(&aggregate_id);
    while let Some(jobs) = aggregates.next_jobs(&aggregate_id, &mut current) {
        run_batch(&aggregates, &aggregate_id, &mut current, jobs).await;
    }
    turn.done = true;
}

/// Removes the queue of a worker that stopped early (a panic in a command handler), so the
/// next command starts a new worker instead of waiting forever; the callers of the jobs it
/// held are answered with an error as their reply channels drop.
struct Turn<'a, A: Aggregate> {
    aggregates: &'a Aggregates<A>,
    aggregate_id: &'a str,
    done: bool,
}

impl<A: Aggregate> Drop for Turn<'_, A> {
    fn drop(&mut self) {
        if !self.done {
            self.aggregates.abandon(self.aggregate_id);
        }
    }
}

enum Outcome<A: Aggregate> {
    Answered(Vec<Result<Vec<EventEnvelope<A>>, A::Error>>),
    Retry,
    /// The store refused the events of some jobs (`refused`, one flag a job), and with them the
    /// whole batch.
    Refused {
        refused: Vec<bool>,
        reason: String,
    },
    Failed(PersistenceError),
}

async fn run_batch<A>(
    aggregates: &Aggregates<A>,
    aggregate_id: &str,
    current: &mut Option<Loaded<A>>,
    mut jobs: Vec<Job<A>>,
) where
    A: Aggregate + Clone,
    A::Command: Clone,
{
    let counters = &aggregates.store.counters;
    Counters::bump(&counters.batches);
    Counters::add(&counters.commands, jobs.len() as u64);
    let started = Instant::now();
    let mut conflicts = 0;
    loop {
        match attempt(aggregates, aggregate_id, current, &jobs).await {
            Outcome::Answered(answers) => {
                for (job, answer) in jobs.into_iter().zip(answers) {
                    // A caller that gave up waiting no longer needs its answer.
                    let _ = job.reply.send(answer.map_err(ExecuteError::Domain));
                }
                if let Some(loaded) = current.as_mut() {
                    if aggregates.store.snapshot_due(loaded) {
                        aggregates.store.write_snapshot(aggregate_id, loaded, false);
                    }
                }
                return;
            }
            Outcome::Retry => {
                Counters::bump(&counters.conflicts);
                if started.elapsed() > RETRY_BUDGET {
                    for job in jobs {
                        let _ = job.reply.send(Err(ExecuteError::Contended));
                    }
                    return;
                }
                conflicts += 1;
                let ceiling_ms = 2u64.pow(conflicts.min(5));
                let pause = Duration::from_millis(rand::rng().random_range(1..=ceiling_ms));
                tracing::debug!(
                    aggregate_id,
                    conflicts,
                    "lost a race to another writer; retrying"
                );
                tokio::time::sleep(pause).await;
            }
            Outcome::Refused { refused, reason } => {
                let mut others = Vec::with_capacity(jobs.len());
                for (job, refused) in jobs.into_iter().zip(refused) {
                    if refused {
                        let _ = job.reply.send(Err(ExecuteError::Refused(reason.clone())));
                    } else {
                        others.push(job);
                    }
                }
                if others.is_empty() {
                    return;
                }
                // Nothing was stored, and the others were decided on an aggregate holding the
                // refused events: they are decided again without them.
                jobs = others;
            }
            Outcome::Failed(error) => {
                let error = Arc::new(error);
                for job in jobs {
                    let _ = job.reply.send(Err(ExecuteError::Store(shared(&error))));
                }
                return;
            }
        }
    }
}

/// Decides every job on the aggregate and commits their events together. `current` is left
/// holding the aggregate as committed, or `None` when that is unknown.
async fn attempt<A>(
    aggregates: &Aggregates<A>,
    aggregate_id: &str,
    current: &mut Option<Loaded<A>>,
    jobs: &[Job<A>],
) -> Outcome<A>
where
    A: Aggregate + Clone,
    A::Command: Clone,
{
    let (mut loaded, from_memory) = match current.take() {
        Some(loaded) => (loaded, true),
        None => match aggregates.store.load::<A>(aggregate_id).await {
            Ok(loaded) => (loaded, false),
            Err(error) => return Outcome::Failed(error),
        },
    };
    let before = loaded.sequence;
    let mut answers = Vec::with_capacity(jobs.len());
    for job in jobs {
        let sink = EventSink::default();
        let decided = loaded
            .aggregate
            .handle(job.command.clone(), &aggregates.services, &sink)
            .await;
        let events = sink.collect().await;
        match decided {
            Ok(()) => {
                let envelopes = envelope(aggregate_id, loaded.sequence, events, &job.metadata);
                loaded.sequence += envelopes.len();
                (job.observe)(&loaded.aggregate);
                answers.push(Ok(envelopes));
            }
            Err(error) => {
                if !events.is_empty() {
                    // The refusal came after the aggregate applied some events: rebuild it
                    // without them, so they affect neither the next command nor the cache.
                    loaded = match rebuild(aggregates, aggregate_id, before, &answers).await {
                        Ok(Some(rebuilt)) => rebuilt,
                        Ok(None) => return Outcome::Retry,
                        Err(error) => return Outcome::Failed(error),
                    };
                }
                answers.push(Err(error));
            }
        }
    }
    let rows = answers
        .iter()
        .flatten()
        .flatten()
        .map(row)
        .collect::<Result<Vec<_>, _>>();
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) => return Outcome::Failed(error),
    };
    if rows.is_empty() {
        // Nothing to commit, so no conflict can reveal a stale copy: the answers stand only if
        // no other process wrote since the copy was made.
        if from_memory {
            match aggregates.store.moved_past::<A>(aggregate_id, before).await {
                Ok(false) => {}
                Ok(true) => return Outcome::Retry,
                Err(error) => return Outcome::Failed(error),
            }
        }
        *current = Some(loaded);
        return Outcome::Answered(answers);
    }
    match aggregates.committer.commit(rows).await {
        Ok(()) => {
            *current = Some(loaded);
            Outcome::Answered(answers)
        }
        Err(CommitError::Conflict) => Outcome::Retry,
        Err(CommitError::Refused(refusal)) => {
            let mut refused: Vec<bool> = answers
                .iter()
                .map(|answer| {
                    answer.as_ref().is_ok_and(|envelopes| {
                        envelopes
                            .iter()
                            .any(|envelope| refusal.names(aggregate_id, envelope.sequence as i64))
                    })
                })
                .collect();
            if !refused.contains(&true) {
                // Named none of them: every job is refused, rather than decided again forever.
                refused.fill(true);
            }
            Outcome::Refused {
                refused,
                reason: refusal.reason,
            }
        }
        Err(CommitError::Failed(error)) => Outcome::Failed(error),
    }
}

/// The aggregate as of `before` plus the events of the jobs already accepted in this batch, or
/// `None` when the stream moved past `before` meanwhile.
async fn rebuild<A>(
    aggregates: &Aggregates<A>,
    aggregate_id: &str,
    before: usize,
    accepted: &[Result<Vec<EventEnvelope<A>>, A::Error>],
) -> Result<Option<Loaded<A>>, PersistenceError>
where
    A: Aggregate + Clone,
{
    let mut loaded = aggregates.store.load::<A>(aggregate_id).await?;
    if loaded.sequence != before {
        return Ok(None);
    }
    for envelope in accepted.iter().flatten().flatten() {
        loaded.aggregate.apply(envelope.payload.clone());
        loaded.sequence = envelope.sequence;
    }
    Ok(Some(loaded))
}

fn envelope<A: Aggregate>(
    aggregate_id: &str,
    sequence_before: usize,
    events: Vec<A::Event>,
    metadata: &CommandMetadata,
) -> Vec<EventEnvelope<A>> {
    let metadata = metadata.to_map(Utc::now());
    events
        .into_iter()
        .zip(sequence_before + 1..)
        .map(|(payload, sequence)| EventEnvelope {
            aggregate_id: aggregate_id.to_owned(),
            sequence,
            payload,
            metadata: metadata.clone(),
        })
        .collect()
}

fn row<A: Aggregate>(envelope: &EventEnvelope<A>) -> Result<Row, PersistenceError> {
    Ok(Row {
        aggregate_id: envelope.aggregate_id.clone(),
        sequence: envelope.sequence as i64,
        event_type: envelope.payload.event_type(),
        event_version: envelope.payload.event_version(),
        payload: serde_json::to_string(&envelope.payload)?,
        metadata: serde_json::to_string(&envelope.metadata)?,
    })
}

/// The answer of a command whose worker stopped before deciding it.
pub(crate) fn worker_stopped() -> PersistenceError {
    PersistenceError::UnknownError("the aggregate's worker stopped before answering".into())
}
