//! One aggregate's stream in PostgreSQL: loading it (snapshot + later events) and writing
//! snapshots beside it.

use std::sync::Arc;

use cqrs_es::persist::{PersistedEventRepository, PersistenceError};
use cqrs_es::Aggregate;
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;

use crate::error::outage_as_connection_error;
use crate::stats::Counters;

/// An aggregate as of a known point of its stream.
#[derive(Clone)]
pub(crate) struct Loaded<A> {
    pub(crate) aggregate: A,
    /// The sequence of the latest event folded in; 0 for a stream with no events yet.
    pub(crate) sequence: usize,
    /// The sequence of the newest snapshot known to be stored; 0 for none.
    pub(crate) snapshot_sequence: usize,
}

impl<A: Aggregate> Loaded<A> {
    fn empty() -> Self {
        Self {
            aggregate: A::default(),
            sequence: 0,
            snapshot_sequence: 0,
        }
    }
}

enum Snapshot<A> {
    Usable {
        sequence: usize,
        aggregate: A,
    },
    Missing,
    /// Undecodable (an older shape of the aggregate) or pointing past the end of its stream.
    Unusable,
}

pub(crate) struct Store {
    pool: PgPool,
    /// Reads the events after a snapshot. Unpaged, which the snapshot bounds: at most
    /// `snapshot_every` events follow one, or a few more while a new one is written.
    events: PostgresEventRepository,
    /// Events between snapshots; 0 writes none.
    snapshot_every: usize,
    pub(crate) counters: Arc<Counters>,
}

/// `consistent` is false when the snapshot claims a sequence its stream does not have: such a
/// snapshot would make the next command write past a gap.
const SELECT_SNAPSHOT: &str = "
SELECT s.last_sequence, s.payload::text, e.sequence IS NOT NULL AS consistent
  FROM snapshots s
  LEFT JOIN events e
    ON e.aggregate_type = s.aggregate_type
   AND e.aggregate_id = s.aggregate_id
   AND e.sequence = s.last_sequence
 WHERE s.aggregate_type = $1 AND s.aggregate_id = $2";

const SELECT_MOVED_PAST: &str = "
SELECT EXISTS (SELECT 1 FROM events
                WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3 + 1)";

/// Two writers may race to store snapshots of one aggregate: the newer one wins, unless `$5`
/// says the stored row is unusable and must go whatever it claims.
const UPSERT_SNAPSHOT: &str = "
INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, payload)
VALUES ($1, $2, $3, $4::json)
ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
   SET last_sequence = EXCLUDED.last_sequence, payload = EXCLUDED.payload, taken_at = now()
 WHERE $5 OR snapshots.last_sequence < EXCLUDED.last_sequence";

impl Store {
    pub(crate) fn new(pool: PgPool, snapshot_every: usize) -> Self {
        Self {
            events: PostgresEventRepository::new(pool.clone()),
            pool,
            snapshot_every,
            counters: Arc::default(),
        }
    }

    /// The aggregate from its latest usable snapshot and the events after it. A snapshot that
    /// cannot be used only makes the load longer, and is replaced.
    pub(crate) async fn load<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Loaded<A>, PersistenceError> {
        Counters::bump(&self.counters.loads);
        let (mut loaded, replace) = match self.read_snapshot::<A>(aggregate_id).await {
            Snapshot::Usable {
                sequence,
                aggregate,
            } => (
                Loaded {
                    aggregate,
                    sequence,
                    snapshot_sequence: sequence,
                },
                false,
            ),
            Snapshot::Missing => (Loaded::empty(), false),
            Snapshot::Unusable => (Loaded::empty(), true),
        };
        self.catch_up(aggregate_id, &mut loaded).await?;
        if loaded.sequence > 0 && (replace || self.snapshot_due(&loaded)) {
            self.write_snapshot(aggregate_id, &mut loaded, replace);
        }
        Ok(loaded)
    }

    async fn read_snapshot<A: Aggregate>(&self, aggregate_id: &str) -> Snapshot<A> {
        let row: Result<Option<(i64, String, bool)>, _> = sqlx::query_as(SELECT_SNAPSHOT)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .fetch_optional(&self.pool)
            .await;
        match row {
            Ok(None) => Snapshot::Missing,
            Ok(Some((sequence, payload, consistent))) => match serde_json::from_str(&payload) {
                Ok(aggregate) if consistent && sequence > 0 => Snapshot::Usable {
                    sequence: sequence as usize,
                    aggregate,
                },
                Ok(_) => {
                    tracing::warn!(
                        aggregate_id,
                        sequence,
                        "snapshot ahead of its stream; ignoring it"
                    );
                    Snapshot::Unusable
                }
                Err(error) => {
                    tracing::warn!(aggregate_id, %error, "undecodable snapshot; loading every event");
                    Snapshot::Unusable
                }
            },
            // The events query that follows decides whether the store is really unavailable.
            Err(error) => {
                tracing::warn!(aggregate_id, %error, "reading a snapshot failed; loading every event");
                Snapshot::Missing
            }
        }
    }

    /// Folds in the events committed after `loaded.sequence`; answers how many there were.
    pub(crate) async fn catch_up<A: Aggregate>(
        &self,
        aggregate_id: &str,
        loaded: &mut Loaded<A>,
    ) -> Result<usize, PersistenceError> {
        let events = self
            .events
            .get_last_events::<A>(aggregate_id, loaded.sequence)
            .await
            .map_err(outage_as_connection_error)?;
        Counters::add(&self.counters.events_read, events.len() as u64);
        let read = events.len();
        for event in events {
            loaded
                .aggregate
                .apply(serde_json::from_value(event.payload)?);
            loaded.sequence = event.sequence;
        }
        Ok(read)
    }

    /// Whether another writer committed after `sequence`.
    pub(crate) async fn moved_past<A: Aggregate>(
        &self,
        aggregate_id: &str,
        sequence: usize,
    ) -> Result<bool, PersistenceError> {
        sqlx::query_scalar(SELECT_MOVED_PAST)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(sequence as i64)
            .fetch_one(&self.pool)
            .await
            .map_err(read_error)
    }

    pub(crate) fn snapshot_due<A>(&self, loaded: &Loaded<A>) -> bool {
        self.snapshot_every > 0 && loaded.sequence >= loaded.snapshot_sequence + self.snapshot_every
    }

    /// Stores `loaded` as the aggregate's snapshot in the background: a failure costs only a
    /// longer load later, so no command waits for it or fails with it.
    pub(crate) fn write_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
        loaded: &mut Loaded<A>,
        replace: bool,
    ) {
        let payload = match serde_json::to_string(&loaded.aggregate) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(aggregate_id, %error, "cannot encode a snapshot");
                return;
            }
        };
        loaded.snapshot_sequence = loaded.sequence;
        let query = sqlx::query(UPSERT_SNAPSHOT)
            .bind(A::TYPE)
            .bind(aggregate_id.to_owned())
            .bind(loaded.sequence as i64)
            .bind(payload)
            .bind(replace);
        let pool = self.pool.clone();
        let counters = self.counters.clone();
        let aggregate_id = aggregate_id.to_owned();
        tokio::spawn(async move {
            match query.execute(&pool).await {
                Ok(done) if done.rows_affected() > 0 => {
                    Counters::bump(&counters.snapshots_written);
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(aggregate_id, %error, "writing a snapshot failed"),
            }
        });
    }
}

fn read_error(error: sqlx::Error) -> PersistenceError {
    match error {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            PersistenceError::DeserializationError(Box::new(error))
        }
        other => PersistenceError::ConnectionError(Box::new(other)),
    }
}
