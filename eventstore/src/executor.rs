use std::time::Duration;

use chrono::Utc;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent, EventEnvelope};
use postgres_es::PostgresEventRepository;
use rand::Rng;
use sqlx::PgPool;

use crate::keyed_lock::KeyedLock;
use crate::CommandMetadata;

/// How often a command is tried when another process keeps writing the same aggregate first.
/// Within one process commands on an aggregate are serialised, so only cross-process races
/// retry; a random, growing pause between tries keeps two busy writers from colliding forever.
const MAX_ATTEMPTS: u32 = 12;

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

/// Loads an aggregate from its events, lets it handle a command, and commits what it decided,
/// returning the committed events with their sequences.
pub struct CommandExecutor<A: Aggregate> {
    pool: PgPool,
    repository: PostgresEventRepository,
    services: A::Services,
    in_flight: KeyedLock,
}

const SELECT_EVENT: &str = "
SELECT payload, metadata FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3";

impl<A: Aggregate> CommandExecutor<A> {
    pub fn new(pool: PgPool, services: A::Services) -> Self {
        Self {
            repository: PostgresEventRepository::new(pool.clone()),
            pool,
            services,
            in_flight: KeyedLock::default(),
        }
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
            .fetch_optional(&self.pool)
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

    /// The aggregate as its committed events leave it.
    pub async fn load(&self, aggregate_id: &str) -> Result<A, PersistenceError> {
        self.load_with_sequence(aggregate_id)
            .await
            .map(|(aggregate, _)| aggregate)
    }

    /// The aggregate and the sequence of its latest event (0 for one that has none yet).
    async fn load_with_sequence(&self, aggregate_id: &str) -> Result<(A, usize), PersistenceError> {
        let stored = self.repository.get_events::<A>(aggregate_id).await?;
        let mut aggregate = A::default();
        let mut last_sequence = 0;
        for event in stored {
            last_sequence = event.sequence;
            aggregate.apply(serde_json::from_value(event.payload)?);
        }
        Ok((aggregate, last_sequence))
    }

    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<Vec<EventEnvelope<A>>, ExecuteError<A::Error>>
    where
        A::Command: Clone,
    {
        self.execute_then(aggregate_id, command, metadata, |_| ())
            .await
            .map(|(events, ())| events)
    }

    /// Like [`execute`](Self::execute), and also reads `observe` off the aggregate as the command
    /// left it, before any other command on it can run: "already joined" or "this message was
    /// already posted" are answers found in the state, not in new events.
    pub async fn execute_then<T>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
        observe: impl FnOnce(&A) -> T,
    ) -> Result<(Vec<EventEnvelope<A>>, T), ExecuteError<A::Error>>
    where
        A::Command: Clone,
    {
        let _turn = self.in_flight.lock(aggregate_id).await;
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                let ceiling_ms = 2u64.pow(attempt.min(6));
                let pause = Duration::from_millis(rand::rng().random_range(1..=ceiling_ms));
                tokio::time::sleep(pause).await;
            }
            let (mut aggregate, sequence_before) = self
                .load_with_sequence(aggregate_id)
                .await
                .map_err(ExecuteError::Store)?;
            let sink = EventSink::default();
            aggregate
                .handle(command.clone(), &self.services, &sink)
                .await
                .map_err(ExecuteError::Domain)?;
            let envelopes = envelope(
                aggregate_id,
                sequence_before,
                sink.collect().await,
                metadata,
            );
            if envelopes.is_empty() {
                return Ok((envelopes, observe(&aggregate)));
            }
            let serialized = envelopes
                .iter()
                .map(serialize)
                .collect::<Result<Vec<_>, _>>();
            match self
                .repository
                .persist::<A>(&serialized.map_err(ExecuteError::Store)?, None)
                .await
            {
                Ok(()) => return Ok((envelopes, observe(&aggregate))),
                Err(PersistenceError::OptimisticLockError) => {
                    tracing::debug!(aggregate_id, "lost a race to another writer; retrying");
                }
                Err(error) => return Err(ExecuteError::Store(error)),
            }
        }
        Err(ExecuteError::Contended)
    }
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

fn serialize<A: Aggregate>(
    envelope: &EventEnvelope<A>,
) -> Result<SerializedEvent, PersistenceError> {
    Ok(SerializedEvent {
        aggregate_id: envelope.aggregate_id.clone(),
        sequence: envelope.sequence,
        aggregate_type: A::TYPE.to_owned(),
        event_type: envelope.payload.event_type(),
        event_version: envelope.payload.event_version(),
        payload: serde_json::to_value(&envelope.payload)?,
        metadata: serde_json::to_value(&envelope.metadata)?,
    })
}
