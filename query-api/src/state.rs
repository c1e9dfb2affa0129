use std::collections::HashSet;
use std::sync::Arc;

use auth::Tokens;
use axum::extract::FromRef;
use domain::values::normalise;
use eventstore::{EventLog, ProjectionWaiter};
use sqlx::PgPool;

#[derive(Clone)]
pub struct QueryState {
    pub(crate) pool: PgPool,
    /// Audits read the event log itself.
    pub(crate) log: EventLog,
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) projection: ProjectionWaiter,
    /// Normalised usernames allowed to read the raw event log.
    auditors: Arc<HashSet<String>>,
}

impl QueryState {
    pub fn new(pool: PgPool, tokens: Arc<Tokens>, auditors: &[String]) -> Self {
        Self {
            projection: ProjectionWaiter::start(pool.clone()),
            log: EventLog::new(pool.clone()),
            pool,
            tokens,
            auditors: Arc::new(auditors.iter().map(|name| normalise(name)).collect()),
        }
    }

    pub(crate) fn is_auditor(&self, username: &str) -> bool {
        self.auditors.contains(&normalise(username))
    }
}

impl FromRef<QueryState> for Arc<Tokens> {
    fn from_ref(state: &QueryState) -> Self {
        state.tokens.clone()
    }
}
