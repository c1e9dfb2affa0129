/// What can go wrong in the gateway outside a socket's own session.
#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    #[error("event store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("unreadable event: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Bus(#[from] bus::BusError),
    #[error("presence mesh: {0}")]
    Mesh(String),
}
