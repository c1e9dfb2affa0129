use std::sync::Arc;

use auth::Tokens;
use axum::extract::FromRef;
use commands::Commands;
use eventstore::{EventLog, ProjectionWaiter};
use sqlx::PgPool;

#[derive(Clone)]
pub struct QueryState {
    pub(crate) pool: PgPool,
    /// Audits read the event log itself.
    pub(crate) log: EventLog,
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) projection: ProjectionWaiter,
    /// Audit reads are put on record, as events, before they are served.
    pub(crate) commands: Commands,
}

impl QueryState {
    pub fn new(pool: PgPool, commands: Commands) -> Self {
        Self {
            projection: ProjectionWaiter::start(pool.clone()),
            log: EventLog::new(pool.clone()),
            pool,
            tokens: commands.tokens().clone(),
            commands,
        }
    }
}

impl FromRef<QueryState> for Arc<Tokens> {
    fn from_ref(state: &QueryState) -> Self {
        state.tokens.clone()
    }
}
