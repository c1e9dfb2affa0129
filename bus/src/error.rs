/// Everything the bus and the relay can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("RabbitMQ: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("RabbitMQ cancelled the consumer")]
    ConsumerCancelled,
    #[error("the connection to RabbitMQ was closed")]
    ConnectionClosed,
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
}

impl BusError {
    /// Whether the broker answered and said no (credentials, permissions, a declaration or a
    /// message it refuses), rather than being out of reach (refused or cut connections, no
    /// answer in time) or the failure being somewhere else.
    pub(crate) fn is_refusal(&self) -> bool {
        use lapin::ErrorKind;
        match self {
            BusError::Amqp(error) => matches!(
                error.kind(),
                ErrorKind::ProtocolError(_)
                    | ErrorKind::AuthProviderError(_)
                    | ErrorKind::ChannelsLimitReached
                    | ErrorKind::InvalidProtocolVersion(_)
            ),
            BusError::Nacked(_) => true,
            _ => false,
        }
    }
}
