//! Every setting is a flag of `chat` and an environment variable.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use api_kit::{Network, RatePolicy, TrustedProxies};
use auth::{JwtSecret, Tokens};
use axum::http::HeaderValue;
use bus::BusConfig;
use clap::{Args, ValueEnum};
use commands::CommandSettings;
use eventstore::ExecutorOptions;
use fanout::{Keepalive, SocketCaps};
use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;

use crate::startup::ConfigError;
use crate::webhook_config::WebhookSettings;

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(
        long,
        env = "CHAT_LISTEN",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub listen: String,
    /// PostgreSQL URL (add `sslmode=disable` on loopback).
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// RabbitMQ URL.
    #[arg(
        long,
        env = "AMQP_URL",
        hide_env_values = true,
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f",
        global = true
    )]
    pub amqp_url: String,
    /// Prefix of every exchange and queue name; defaults to the database's name, so two
    /// systems sharing a broker never see each other's events.
    #[arg(long, env = "CHAT_BUS_PREFIX", global = true)]
    pub bus_prefix: Option<String>,
    /// How long register, create, join and leave wait for the read tables to show their write
    /// before answering anyway (with `X-Projection-Pending: true`).
    #[arg(long, env = "CHAT_PROJECTION_WAIT", default_value = "2s", value_parser = humantime::parse_duration, global = true)]
    pub projection_wait: Duration,
    /// HS256 signing key for access tokens; required unless `--dev`.
    #[arg(long, env = "CHAT_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// Development mode: a random signing key when none is set, and CORS for the seed client's
    /// localhost origins (ports 3000 and 5173).
    #[arg(long, env = "CHAT_DEV", global = true)]
    pub dev: bool,
    /// Access token lifetime, e.g. `12h` or `30m`.
    #[arg(long, env = "CHAT_TOKEN_TTL", default_value = "12h", value_parser = humantime::parse_duration, global = true)]
    pub token_ttl: Duration,
    /// How long a socket ticket (`POST /auth/ws-ticket`) may be redeemed, e.g. `30s`.
    #[arg(long, env = "CHAT_WS_TICKET_TTL", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub ws_ticket_ttl: Duration,
    /// bcrypt work factor (4–31).
    #[arg(long, env = "CHAT_BCRYPT_COST", default_value_t = 12, value_parser = clap::value_parser!(u32).range(4..=31), global = true)]
    pub bcrypt_cost: u32,
    /// Origins allowed to call the API from a browser, comma-separated.
    #[arg(long, env = "CHAT_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,
    /// Messages per second per user (REST and WebSocket); 0 turns the limit off.
    #[arg(long, env = "CHAT_SEND_RATE", default_value_t = 10, global = true)]
    pub send_rate: u32,
    /// Messages a user may send in a burst above the rate.
    #[arg(long, env = "CHAT_SEND_BURST", default_value_t = 50, global = true)]
    pub send_burst: u32,
    /// Messages per second per bot account (its own limit, not a person's); 0 = off.
    #[arg(long, env = "CHAT_BOT_SEND_RATE", default_value_t = 5, global = true)]
    pub bot_send_rate: u32,
    /// Messages a bot may send in a burst above its rate.
    #[arg(long, env = "CHAT_BOT_SEND_BURST", default_value_t = 20, global = true)]
    pub bot_send_burst: u32,
    /// Bot accounts one user may have at once (revoked ones do not count).
    #[arg(long, env = "CHAT_BOTS_PER_USER", default_value_t = 10, global = true)]
    pub bots_per_user: u32,
    /// Event feed streams (`GET /events` as Server-Sent Events) one user or bot may have open on
    /// this server; past it, 429; 0 = off.
    #[arg(
        long,
        env = "CHAT_FEED_MAX_PER_USER",
        default_value_t = 8,
        global = true
    )]
    pub feed_max_per_user: usize,
    /// Reverse proxies whose `X-Forwarded-For` (or `Forwarded`) is believed, comma-separated
    /// addresses or networks (`10.0.0.0/8`): behind them, the client is the right-most address
    /// the header lists that is not one of them.
    #[arg(
        long,
        env = "CHAT_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<String>,
    /// Login and registration attempts per minute per client address, and failed logins per
    /// minute per username; 0 = off.
    #[arg(long, env = "CHAT_LOGIN_RATE", default_value_t = 20, global = true)]
    pub login_rate: u32,
    /// Rooms a user may create per hour (a refused creation counts too); 0 = off.
    #[arg(
        long,
        env = "CHAT_ROOM_CREATE_RATE",
        default_value_t = 30,
        global = true
    )]
    pub room_create_rate: u32,
    /// Password attempts per minute by one user at one private room they are not a member of
    /// (checked before the join is queued); 0 = off.
    #[arg(
        long,
        env = "CHAT_ROOM_PASSWORD_RATE",
        default_value_t = 5,
        global = true
    )]
    pub room_password_rate: u32,
    /// How often the server pings each WebSocket, e.g. `10s`.
    #[arg(long, env = "CHAT_WS_PING_INTERVAL", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub ws_ping_interval: Duration,
    /// A WebSocket that answers no ping for this long is closed (one that merely sends nothing
    /// stays open).
    #[arg(long, env = "CHAT_WS_IDLE_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub ws_idle_timeout: Duration,
    /// WebSockets one user may have open on this node; more are closed with 1013; 0 = off.
    #[arg(
        long,
        env = "CHAT_WS_MAX_PER_USER",
        default_value_t = 32,
        global = true
    )]
    pub ws_max_per_user: usize,
    /// WebSockets one client address may have open on this node; more are closed with 1013;
    /// 0 = off.
    #[arg(
        long,
        env = "CHAT_WS_MAX_PER_ADDRESS",
        default_value_t = 256,
        global = true
    )]
    pub ws_max_per_address: usize,
    /// WebSockets this node serves at once; more are closed with 1013; 0 = off.
    #[arg(
        long,
        env = "CHAT_WS_MAX_PER_NODE",
        default_value_t = 100_000,
        global = true
    )]
    pub ws_max_per_node: usize,
    /// Events between snapshots of an aggregate, so loading a long room reads at most this many
    /// events after its snapshot; 0 writes none.
    #[arg(
        long,
        env = "CHAT_SNAPSHOT_EVERY",
        default_value_t = 100,
        global = true
    )]
    pub snapshot_every: usize,
    /// Idle aggregates (rooms, users) kept in memory, most recently used first; 0 keeps none.
    #[arg(
        long,
        env = "CHAT_AGGREGATE_CACHE",
        default_value_t = 1000,
        global = true
    )]
    pub aggregate_cache: usize,
    /// The built web client, served at `/`; the server runs fine without it.
    #[arg(long, env = "CHAT_WEB_DIR", default_value = "web/dist", global = true)]
    pub web_dir: PathBuf,
    /// Gone: auditors are granted with `chat role grant auditor <username>`. Read only to stop a
    /// server that still sets it, since it named users by a name a stranger could register.
    #[arg(long, env = "CHAT_AUDITORS", hide = true, global = true)]
    pub auditors: Option<String>,
    #[arg(long, env = "CHAT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,
    /// PostgreSQL connections for commands (REST and WebSocket sends) and their read-your-writes
    /// waits.
    #[arg(long, env = "CHAT_DB_POOL_COMMANDS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(2..), global = true)]
    pub db_pool_commands: u32,
    /// PostgreSQL connections for the HTTP reads and their `min_seq` waits.
    #[arg(long, env = "CHAT_DB_POOL_QUERIES", default_value_t = 8, value_parser = clap::value_parser!(u32).range(2..), global = true)]
    pub db_pool_queries: u32,
    /// PostgreSQL connections for the projector.
    #[arg(long, env = "CHAT_DB_POOL_PROJECTOR", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub db_pool_projector: u32,
    /// PostgreSQL connections for the WebSocket gateway's catch-up reads.
    #[arg(long, env = "CHAT_DB_POOL_FANOUT", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub db_pool_fanout: u32,
    /// An HTTP read running longer is cancelled and answered 503 `unavailable`; 0 = no limit.
    #[arg(long, env = "CHAT_QUERY_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration, global = true)]
    pub query_timeout: Duration,
    /// How often the projector reads the event store for events the broker lost (it also does
    /// after every reconnect to the broker), e.g. `1m`.
    #[arg(long, env = "CHAT_PROJECTOR_CATCH_UP_INTERVAL", default_value = "1m", value_parser = humantime::parse_duration, global = true)]
    pub projector_catch_up_interval: Duration,
    /// How far behind the projector may fall (see `/readyz`) before its process reports itself
    /// not ready; 0 = never.
    #[arg(long, env = "CHAT_READY_MAX_LAG", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub ready_max_lag: Duration,
    /// Most events the dead-letter queue keeps; past it the oldest are dropped (they stay in
    /// the event store). 0 = no limit.
    #[arg(long, env = "CHAT_DLQ_MAX_LENGTH", default_value_t = BusConfig::DEFAULT_DEAD_LETTER_LIMIT, global = true)]
    pub dlq_max_length: u32,
    #[command(flatten)]
    pub webhooks: WebhookSettings,
}

/// The outbox relay's connections: its listener and one for its batches (its lock holds a
/// connection of its own, outside every pool).
const RELAY_POOL: u32 = 2;

/// The webhook delivery worker's connections: its intake and dispatchers take turns on them (an
/// attempt holds none while it waits for the endpoint).
const WEBHOOKS_POOL: u32 = 3;

/// The process's connections to PostgreSQL, one pool per kind of work, so none can take
/// another's: slow reads cannot make posts fail or stop the projection. Each pool opens a
/// connection only when first needed, so a role pays only for the pools it uses.
#[derive(Debug, Clone)]
pub struct Pools {
    /// The write path (its listener for read-your-writes waits holds one connection).
    pub commands: PgPool,
    /// The HTTP reads, every statement cut at the query timeout (the listener for `min_seq`
    /// waits holds one connection).
    pub queries: PgPool,
    pub projector: PgPool,
    /// The WebSocket gateway's catch-up reads.
    pub fanout: PgPool,
    pub relay: PgPool,
    /// The webhook delivery worker's intake and dispatchers.
    pub webhooks: PgPool,
    /// The listener that keeps this process's copy of the token revocations up to date.
    pub revocations: PgPool,
    /// The event feed's `LISTEN outbox`, which holds its connection for good: taken from the
    /// queries pool, it would leave a pool of two nothing but the `min_seq` waits' listener.
    pub feed_listener: PgPool,
    /// The readiness check's one connection, so a pool busy with work (or a projector's batch
    /// waiting on a lock) is not taken for a database that is down.
    pub readiness: PgPool,
}

/// The seed's web client runs on its own dev server and calls the API across origins.
const DEV_ORIGINS: [&str; 4] = [
    "http://localhost:3000",
    "http://localhost:5173",
    "http://127.0.0.1:3000",
    "http://127.0.0.1:5173",
];

impl Settings {
    pub async fn connect(&self) -> anyhow::Result<PgPool> {
        eventstore::connect(self.database_url()?, 16)
            .await
            .context("connecting to PostgreSQL")
    }

    /// The pools of a long-running process; no connection is opened yet.
    pub fn pools(&self) -> anyhow::Result<Pools> {
        let options: PgConnectOptions = self
            .database_url()?
            .parse()
            .context("DATABASE_URL is not a PostgreSQL URL")?;
        let mut reads = options.clone();
        if !self.query_timeout.is_zero() {
            let timeout = format!("{}ms", self.query_timeout.as_millis());
            reads = reads.options([("statement_timeout", timeout)]);
        }
        Ok(Pools {
            commands: eventstore::lazy_pool(options.clone(), self.db_pool_commands),
            queries: eventstore::lazy_pool(reads, self.db_pool_queries),
            projector: eventstore::lazy_pool(options.clone(), self.db_pool_projector),
            fanout: eventstore::lazy_pool(options.clone(), self.db_pool_fanout),
            relay: eventstore::lazy_pool(options.clone(), RELAY_POOL),
            webhooks: eventstore::lazy_pool(options.clone(), WEBHOOKS_POOL),
            revocations: eventstore::lazy_pool(options.clone(), 1),
            feed_listener: eventstore::lazy_pool(options.clone(), 1),
            readiness: eventstore::lazy_pool(options, 1),
        })
    }

    fn database_url(&self) -> anyhow::Result<&str> {
        self.database_url
            .as_deref()
            .context("DATABASE_URL (or --database-url) is required")
    }

    /// How the webhook delivery worker delivers.
    pub fn delivery(&self) -> Result<webhooks::DeliverySettings, ConfigError> {
        self.webhooks.delivery(self.projector_catch_up_interval)
    }

    pub fn bus(&self) -> anyhow::Result<BusConfig> {
        let prefix = match &self.bus_prefix {
            Some(prefix) if !prefix.is_empty() => prefix.clone(),
            _ => BusConfig::default_prefix(self.database_url()?),
        };
        Ok(BusConfig {
            amqp_url: self.amqp_url.clone(),
            prefix,
            dead_letter_limit: self.dlq_max_length,
        })
    }

    /// The token keys. A secret shorter than 32 bytes is refused, even in dev mode: it was set
    /// on purpose, and would be guessed offline from a single token.
    pub fn tokens(&self) -> Result<Tokens, ConfigError> {
        let secret =
            match (&self.jwt_secret, self.dev) {
                (Some(secret), _) if !secret.is_empty() => JwtSecret::new(secret.as_bytes())
                    .map_err(|short| {
                        ConfigError::new(format!(
                            "CHAT_JWT_SECRET (--jwt-secret) is too short: {short}"
                        ))
                    })?,
                (_, true) => {
                    tracing::warn!(
                        "dev mode: signing tokens with a random key; they stop working at restart"
                    );
                    JwtSecret::random()
                }
                _ => return Err(ConfigError::new(
                    "CHAT_JWT_SECRET (--jwt-secret) is required: at least 32 random bytes, e.g. \
                     `openssl rand -hex 32` (or run with --dev for a throwaway key)",
                )),
            };
        Ok(Tokens::new(&secret, self.token_ttl))
    }

    pub fn command_settings(&self) -> CommandSettings {
        CommandSettings {
            bcrypt_cost: self.bcrypt_cost,
            login_rate: RatePolicy::per_minute(self.login_rate),
            send_rate: RatePolicy::per_second(self.send_rate, self.send_burst),
            bot_send_rate: RatePolicy::per_second(self.bot_send_rate, self.bot_send_burst),
            bots_per_user: self.bots_per_user,
            room_create_rate: RatePolicy::per_hour(self.room_create_rate),
            room_password_rate: RatePolicy::per_minute(self.room_password_rate),
            executor: ExecutorOptions {
                snapshot_every: self.snapshot_every,
                cache_capacity: self.aggregate_cache,
            },
            projection_wait: self.projection_wait,
            socket_ticket_lifetime: self.ws_ticket_ttl,
            webhooks_per_room: usize::from(self.webhooks.per_room),
        }
    }

    pub fn keepalive(&self) -> Keepalive {
        Keepalive {
            ping_every: self.ws_ping_interval,
            idle_after: self.ws_idle_timeout,
        }
    }

    pub fn socket_caps(&self) -> SocketCaps {
        SocketCaps {
            per_user: self.ws_max_per_user,
            per_address: self.ws_max_per_address,
            per_node: self.ws_max_per_node,
        }
    }

    pub fn trusted_proxies(&self) -> Result<TrustedProxies, ConfigError> {
        let networks = self
            .trusted_proxies
            .iter()
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| {
                entry.parse::<Network>().map_err(|error| {
                    ConfigError::new(format!("CHAT_TRUSTED_PROXIES (--trusted-proxies): {error}"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies::new(networks))
    }

    /// The origins browsers may call the API from. A wildcard is refused: the API takes bearer
    /// tokens, and every origin it trusts is one more page that may act with them.
    pub fn allowed_origins(&self) -> Result<Vec<String>, ConfigError> {
        let mut origins = self.cors_origins.clone();
        if self.dev && origins.is_empty() {
            origins.extend(DEV_ORIGINS.map(String::from));
        }
        for origin in &origins {
            if origin.contains('*') {
                return Err(ConfigError::new(format!(
                    "CHAT_CORS_ORIGINS (--cors-origins) may not contain `*` ({origin:?}): \
                     list each origin, e.g. https://chat.example.com"
                )));
            }
            if origin.trim().is_empty() || HeaderValue::from_str(origin).is_err() {
                return Err(ConfigError::new(format!(
                    "CHAT_CORS_ORIGINS (--cors-origins) holds {origin:?}, which is not an origin \
                     such as https://chat.example.com"
                )));
            }
        }
        Ok(origins)
    }
}
