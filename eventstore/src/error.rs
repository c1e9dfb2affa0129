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
    /// The store refused the command's events for a rule it keeps itself, beyond what the
    /// aggregate holds in memory: a message repeating a `client_msg_id` its sender used in the
    /// room within the day. Nothing of the command was stored.
    #[error("the event store refused the events: {0}")]
    Refused(String),
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

/// Whether a failed statement means the database is out of reach for now (callers answer 503 and
/// may retry) rather than a fault of ours: the connection broke, the pool has none to give, or
/// the server refused for a while — SQLSTATE class 08 (connection exception), 53 (insufficient
/// resources) or 57 (operator intervention, e.g. a terminated backend or a shutdown).
pub(crate) fn database_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            ["08", "53", "57"]
                .iter()
                .any(|class| code.starts_with(class))
        }),
        _ => false,
    }
}

/// postgres-es calls every database error but an I/O one unknown; one that means the database
/// is out of reach for now is a connection error here, as it is for our own statements.
pub(crate) fn outage_as_connection_error(error: PersistenceError) -> PersistenceError {
    match error {
        PersistenceError::UnknownError(source)
            if source
                .downcast_ref::<sqlx::Error>()
                .is_some_and(database_unavailable) =>
        {
            PersistenceError::ConnectionError(source)
        }
        other => other,
    }
}
