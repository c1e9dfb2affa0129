use cqrs_es::persist::PersistenceError;

/// Why a command did not commit.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError<E: std::error::Error> {
    /// The aggregate refused the command.
    #[error(transparent)]
    Domain(E),
    /// Other writers kept winning the race for this aggregate.
    #[error("the aggregate kept changing under the command; try again")]
    Contended,
    /// The database failed or a stored event could not be read back.
    #[error("event store")]
    Store(#[source] PersistenceError),
}

/// Why a read of the event log failed: the database (down, or refusing the query), or a stored
/// event that does not decode as its aggregate's event, which is a fault of ours.
#[derive(Debug, thiserror::Error)]
pub enum EventLogError {
    #[error("reading the event log")]
    Database(#[source] sqlx::Error),
    #[error("event {sequence} of {aggregate_type} {aggregate_id} does not decode")]
    Undecodable {
        aggregate_type: String,
        aggregate_id: String,
        sequence: i64,
        #[source]
        source: serde_json::Error,
    },
}
