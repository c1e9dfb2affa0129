use std::sync::Arc;

use api_kit::{RateLimiter, RatePolicy};
use auth::{Passwords, Tokens};
use axum::extract::FromRef;
use domain::{Room, RoomServices, User};
use eventstore::{CommandExecutor, ExecutorOptions};
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
}

#[derive(Clone)]
pub struct CommandState {
    pub(crate) users: Arc<CommandExecutor<User>>,
    pub(crate) rooms: Arc<CommandExecutor<Room>>,
    pub(crate) passwords: Passwords,
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) login_limit: RateLimiter,
    pub(crate) send_limit: RateLimiter,
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
                pool,
                room_services,
                settings.executor,
            )),
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
}

impl FromRef<CommandState> for Arc<Tokens> {
    fn from_ref(state: &CommandState) -> Self {
        state.tokens.clone()
    }
}
