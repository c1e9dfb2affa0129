//! Which role runs what: the one place that maps a serving subcommand to its HTTP routes and its
//! background workers. `run`, `build_app` and `spawn_workers` only read the answer.

use crate::Command;

/// What one process serves and runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// The HTTP write endpoints.
    pub command_api: bool,
    /// The HTTP read endpoints and the audits.
    pub query_api: bool,
    /// The WebSocket gateway, with its node's bus consumer and the presence mesh.
    pub fanout: bool,
    /// The read tables' projector.
    pub projector: bool,
}

impl Roles {
    pub const ALL: Roles = Roles {
        command_api: true,
        query_api: true,
        fanout: true,
        projector: true,
    };

    const NONE: Roles = Roles {
        command_api: false,
        query_api: false,
        fanout: false,
        projector: false,
    };

    /// What `chat <command>` runs; nothing for the one-shot operator commands.
    pub fn of(command: &Command) -> Self {
        match command {
            Command::All => Self::ALL,
            Command::CommandApi => Self {
                command_api: true,
                ..Self::NONE
            },
            Command::QueryApi => Self {
                query_api: true,
                ..Self::NONE
            },
            Command::Fanout => Self {
                fanout: true,
                ..Self::NONE
            },
            Command::Projector => Self {
                projector: true,
                ..Self::NONE
            },
            Command::Replay { .. }
            | Command::Rebuild
            | Command::Verify
            | Command::Dlq(_)
            | Command::Role(_)
            | Command::Probe { .. }
            | Command::Migrate
            | Command::Openapi => Self::NONE,
        }
    }

    /// Whether the process writes events: the command API, the WebSocket gateway, whose sends
    /// are commands too, and the query API, which records every audit read before serving it.
    /// Such a process builds the command executors and runs an outbox relay (an advisory lock
    /// makes one relay of the database active).
    pub fn writes(&self) -> bool {
        self.command_api || self.query_api || self.fanout
    }

    /// Whether the process serves the public API (and the API docs and web client with it).
    /// Every long-running role listens anyway, for its health, readiness and metrics.
    pub fn serves_api(&self) -> bool {
        self.command_api || self.query_api || self.fanout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_runs_only_what_it_serves() {
        let query = Roles::of(&Command::QueryApi);
        assert!(query.writes(), "audit reads are recorded as events");
        assert!(query.serves_api());
        let projector = Roles::of(&Command::Projector);
        assert!(!projector.serves_api() && !projector.writes() && projector.projector);
        assert!(Roles::of(&Command::Fanout).writes());
        assert_eq!(Roles::of(&Command::Migrate), Roles::NONE);
        assert_eq!(Roles::of(&Command::All), Roles::ALL);
    }
}
