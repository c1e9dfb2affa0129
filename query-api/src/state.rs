use std::sync::Arc;

use auth::Tokens;
use axum::extract::FromRef;
use commands::Commands;

use crate::Feed;
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
    /// The event feed, in a process that serves it.
    pub(crate) feed: Option<Feed>,
}

impl QueryState {
    pub fn new(pool: PgPool, commands: Commands) -> Self {
        Self {
            projection: ProjectionWaiter::start(pool.clone()),
            log: EventLog::new(pool.clone()),
            pool,
            tokens: commands.tokens().clone(),
            commands,
            feed: None,
        }
    }

    /// Serves the event feed too.
    pub fn with_feed(mut self, feed: Feed) -> Self {
        self.feed = Some(feed);
        self
    }
}

impl FromRef<QueryState> for Arc<Tokens> {
    fn from_ref(state: &QueryState) -> Self {
        state.tokens.clone()
    }
}
