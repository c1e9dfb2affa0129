use std::sync::Arc;
use std::time::Duration;

use api_kit::{AfterProjection, RateLimiter, RatePolicy};
use auth::{Passwords, Tokens};
use axum::extract::FromRef;
use domain::{Room, RoomServices, User};
use eventstore::{CommandExecutor, ExecutorOptions, ProjectionWaiter};
use sqlx::PgPool;

/// What the command API needs from the configuration.
#[derive(Debug, Clone)]
pub struct CommandSettings {
    pub bcrypt_cost: u32,
    /// Login and registration attempts, per username and per address.
    pub login_rate: RatePolicy,
    /// Messages per user.
    pub send_rate: RatePolicy,
    /// Snapshots and the aggregate cache of the write path.
    pub executor: ExecutorOptions,
    /// How long register, create, join and leave wait for the projection to apply their
    /// events before answering anyway.
    pub projection_wait: Duration,
}

#[derive(Clone)]
pub struct CommandState {
    pub(crate) users: Arc<CommandExecutor<User>>,
    pub(crate) rooms: Arc<CommandExecutor<Room>>,
    pub(crate) passwords: Passwords,
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) login_limit: RateLimiter,
    pub(crate) send_limit: RateLimiter,
    projection: ProjectionWaiter,
    projection_wait: Duration,
}

impl CommandState {
    pub fn new(pool: PgPool, tokens: Arc<Tokens>, settings: &CommandSettings) -> Self {
        let passwords = Passwords::with_cost(settings.bcrypt_cost);
        let room_services = RoomServices {
            passwords: Arc::new(passwords),
        };
        Self {
            users: Arc::new(CommandExecutor::with_options(
                pool.clone(),
                (),
                settings.executor,
            )),
            rooms: Arc::new(CommandExecutor::with_options(
                pool.clone(),
                room_services,
                settings.executor,
            )),
            projection: ProjectionWaiter::start(pool),
            projection_wait: settings.projection_wait,
            passwords,
            tokens,
            login_limit: RateLimiter::new(settings.login_rate),
            send_limit: RateLimiter::new(settings.send_rate),
        }
    }

    /// The room executor, for other write paths (the WebSocket gateway posts through it too).
    pub fn rooms(&self) -> &Arc<CommandExecutor<Room>> {
        &self.rooms
    }

    /// Answers `body` once the projection has applied `sequence` of the aggregate, so a read
    /// right after this write sees it; past the configured wait, answers anyway and says so.
    pub(crate) async fn after_projection<T>(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: usize,
        body: T,
    ) -> AfterProjection<T> {
        let waited = self
            .projection
            .wait(
                aggregate_type,
                aggregate_id,
                sequence as i64,
                self.projection_wait,
            )
            .await;
        let pending = match waited {
            Ok(applied) => !applied,
            Err(error) => {
                tracing::warn!(%error, "cannot tell whether the projection caught up");
                true
            }
        };
        AfterProjection { body, pending }
    }
}

impl FromRef<CommandState> for Arc<Tokens> {
    fn from_ref(state: &CommandState) -> Self {
        state.tokens.clone()
    }
}
