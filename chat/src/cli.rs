//! The command line: which role or operator command to run. Every setting it takes is in
//! [`Settings`].

use std::time::Duration;

use clap::{Parser, Subcommand};
use domain::UserRole;

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "chat",
    version,
    about = "An event-sourced chat server",
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Every role on one origin: the whole system in one process.
    All,
    /// The HTTP write endpoints only, with the outbox relay.
    CommandApi,
    /// The WebSocket gateway only, with the outbox relay (its sends write events).
    Fanout,
    /// The HTTP read endpoints only.
    QueryApi,
    /// Print a room's history as a readable timeline, from the event store alone.
    Replay {
        /// The room's id.
        #[arg(long)]
        room: uuid::Uuid,
        /// Only events recorded up to this instant (RFC 3339).
        #[arg(long)]
        until: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// The projector only: keeps the read tables up to date from the bus.
    Projector,
    /// Rebuild every read table from the event store and swap them in, while the system runs.
    Rebuild,
    /// Rebuild the read tables into a scratch schema and compare them with the live ones;
    /// exits non-zero on any difference.
    Verify,
    /// Events the projector could not apply.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Grant or take away a user's role (recorded as an event, on the audit trail).
    #[command(subcommand)]
    Role(RoleCommand),
    /// GET a URL (e.g. a role's `/readyz`); exit 0 on a 2xx answer, 1 on any other answer or
    /// none in time. For container healthchecks, in an image without curl.
    Probe {
        /// An `http://` URL.
        url: String,
        /// How long to wait for the answer.
        #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
        timeout: Duration,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Print the OpenAPI document and exit.
    Openapi,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum DlqCommand {
    /// Show the oldest dead-lettered events and why they could not be applied, and how many
    /// wait in all; they stay queued.
    List {
        /// How many to show.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Send every dead-lettered event back to the projector (after fixing what refused it).
    Retry,
}

#[derive(Debug, Clone, Subcommand)]
pub enum RoleCommand {
    /// Make a registered user `role` (the one role: auditor, who reads `/audit/…`).
    Grant { role: UserRole, username: String },
    /// Take `role` away from a user.
    Revoke { role: UserRole, username: String },
}
