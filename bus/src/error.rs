/// Everything the bus and the relay can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("RabbitMQ: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("RabbitMQ cancelled the consumer")]
    ConsumerCancelled,
    #[error("RabbitMQ did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("RabbitMQ refused to take message {0}")]
    Nacked(String),
    #[error("PostgreSQL: {0}")]
    Database(#[from] sqlx::Error),
    /// The connection that holds the relay lock failed: another relay may be active already.
    #[error("lost the connection holding the relay lock")]
    LockLost(#[source] sqlx::Error),
    #[error(transparent)]
    EventLog(#[from] eventstore::EventLogError),
    #[error("encoding an envelope: {0}")]
    Json(#[from] serde_json::Error),
}
