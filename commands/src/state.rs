use std::sync::Arc;
use std::time::Duration;

use api_kit::{FailureLimiter, RateLimiter, RatePolicy};
use auth::{Passwords, Tokens};
use domain::room::Actor;
use domain::{ReadPositions, Room, RoomWebhooks, User};
use eventstore::{CommandExecutor, CommandMetadata, ExecutorOptions, ProjectionWaiter};
use sqlx::PgPool;

use crate::reads::ReadMarks;

/// What the write side needs from the configuration.
#[derive(Debug, Clone)]
pub struct CommandSettings {
    pub bcrypt_cost: u32,
    /// Login and registration attempts per address, and failed logins per username.
    pub login_rate: RatePolicy,
    /// Messages per user.
    pub send_rate: RatePolicy,
    /// Messages per bot account: bots have limits of their own.
    pub bot_send_rate: RatePolicy,
    /// Bot accounts one user may have at once.
    pub bots_per_user: u32,
    /// Room creations per user.
    pub room_create_rate: RatePolicy,
    /// Password attempts per user and room, at rooms the user is not a member of.
    pub room_password_rate: RatePolicy,
    /// Snapshots and the aggregate cache of the write path.
    pub executor: ExecutorOptions,
    /// How long register, create, join and leave wait for the projection to apply their
    /// events before answering anyway.
    pub projection_wait: Duration,
    /// How long a socket ticket may be redeemed.
    pub socket_ticket_lifetime: Duration,
    /// The most webhooks one room may have at once.
    pub webhooks_per_room: usize,
}

/// The use cases and what they share: one executor per aggregate type, password hashing, token
/// issuing, the rate limits and the projection waiter. Build it once per process, so every
/// transport queues its commands on the same per-aggregate workers.
///
/// A clone is one reference count: every HTTP request clones its handler's state, at least
/// twice, and a field-by-field clone (some twenty counts, each dropped again) was a measurable
/// part of a post's CPU time.
#[derive(Clone)]
pub struct Commands(Arc<Shared>);

impl std::ops::Deref for Commands {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every clone of [`Commands`] shares. Public only as the target of its `Deref`: the
/// module is private and the fields are the crate's.
pub struct Shared {
    pub(crate) users: CommandExecutor<User>,
    pub(crate) rooms: CommandExecutor<Room>,
    pub(crate) webhooks: CommandExecutor<RoomWebhooks>,
    pub(crate) read_positions: CommandExecutor<ReadPositions>,
    /// Read positions held to be committed together (see `reads`).
    pub(crate) read_marks: ReadMarks,
    pub(crate) passwords: Passwords,
    pub(crate) tokens: Arc<Tokens>,
    /// Login and registration attempts per client address.
    pub(crate) address_limit: RateLimiter,
    /// Failed logins (and wrong current passwords) per username.
    pub(crate) login_failures: FailureLimiter,
    pub(crate) send_limit: RateLimiter,
    pub(crate) bot_send_limit: RateLimiter,
    pub(crate) bots_per_user: u32,
    /// This process's bot creations, one at a time, so at most one of them holds a connection
    /// of its own while it waits for its owner's turn (see `create_bot`).
    pub(crate) bot_creations: tokio::sync::Mutex<()>,
    pub(crate) room_create_limit: RateLimiter,
    pub(crate) room_password_limit: RateLimiter,
    /// The write path's own reads (sends, messages, bots, read positions).
    pub(crate) pool: PgPool,
    projection: ProjectionWaiter,
    projection_wait: Duration,
    pub(crate) socket_ticket_lifetime: Duration,
    pub(crate) webhooks_per_room: usize,
}

/// An outcome that waited for the projection to apply its events; `pending` when the wait ran
/// out first (the outcome is right, a read right after it may not show it yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projected<T> {
    pub outcome: T,
    pub pending: bool,
}

impl Commands {
    pub fn new(pool: PgPool, tokens: Arc<Tokens>, settings: &CommandSettings) -> Self {
        let passwords = Passwords::with_cost(settings.bcrypt_cost);
        Self(Arc::new(Shared {
            users: CommandExecutor::with_options(pool.clone(), (), settings.executor),
            rooms: CommandExecutor::with_options(pool.clone(), (), settings.executor),
            webhooks: CommandExecutor::with_options(pool.clone(), (), settings.executor),
            read_positions: CommandExecutor::with_options(pool.clone(), (), settings.executor),
            read_marks: ReadMarks::default(),
            projection: ProjectionWaiter::start(pool.clone()),
            pool,
            projection_wait: settings.projection_wait,
            socket_ticket_lifetime: settings.socket_ticket_lifetime,
            webhooks_per_room: settings.webhooks_per_room,
            passwords,
            tokens,
            address_limit: RateLimiter::new(settings.login_rate),
            login_failures: FailureLimiter::new(settings.login_rate),
            send_limit: RateLimiter::new(settings.send_rate),
            bot_send_limit: RateLimiter::new(settings.bot_send_rate),
            bots_per_user: settings.bots_per_user,
            bot_creations: tokio::sync::Mutex::default(),
            room_create_limit: RateLimiter::new(settings.room_create_rate),
            room_password_limit: RateLimiter::new(settings.room_password_rate),
        }))
    }

    /// How many passwords were verified since the start, for logins of known names and unknown
    /// alike.
    pub fn password_verifications(&self) -> u64 {
        self.passwords.verifications()
    }

    /// The database, for the answers a transport reads back from the read tables.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The keys tokens are issued with, for the transports that verify them.
    pub fn tokens(&self) -> &Arc<Tokens> {
        &self.tokens
    }

    /// Answers `outcome` once the projection has applied `sequence` of the aggregate, so a read
    /// right after this write sees it; past the configured wait, answers anyway and says so.
    pub(crate) async fn after_projection<T>(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: usize,
        outcome: T,
    ) -> Projected<T> {
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
                // Not a failure of the command, which is committed: the answer only says that
                // a read may be stale.
                tracing::warn!(
                    cause = %api_kit::Chain(&error),
                    "cannot tell whether the projection caught up"
                );
                true
            }
        };
        Projected { outcome, pending }
    }
}

/// The event metadata of a command `actor` gives in the request `request_id`.
pub(crate) fn metadata(actor: &Actor, request_id: Option<String>) -> CommandMetadata {
    CommandMetadata::by(actor.user_id, request_id)
}
