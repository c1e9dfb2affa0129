/// Everything projecting, rebuilding and verifying can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    #[error("PostgreSQL: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    EventLog(#[from] eventstore::EventLogError),
    #[error(transparent)]
    Bus(#[from] bus::BusError),
    #[error("another rebuild is running")]
    RebuildRunning,
}
