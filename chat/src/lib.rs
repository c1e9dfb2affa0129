//! The `chat` binary's library: configuration, the roles it can run, and how they are composed
//! on one origin. `main.rs` only parses the command line and calls [`run`].

pub mod app;
mod cli;
pub mod config;
mod headers;
mod inert;
mod lifecycle;
pub mod openapi;
pub mod ops;
mod roles;
mod startup;
mod telemetry;
mod tools;
mod webhook_config;
mod workers;

pub use app::{build_app, serve};
pub use cli::{Cli, Command, DlqCommand, RoleCommand};
pub use config::{Pools, Settings};
pub use lifecycle::Lifecycle;
pub use ops::Ops;
pub use roles::Roles;
pub use startup::{exit_code, ConfigError};
pub use workers::spawn_workers;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

/// Runs what the command line asked for until it finishes or the process is told to stop.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.settings.log_format);
    let settings = &cli.settings;
    match cli.command {
        Command::Openapi => {
            println!("{}", openapi::document_json());
            Ok(())
        }
        Command::Migrate => {
            migrated(settings).await?;
            tracing::info!("database schema is up to date");
            Ok(())
        }
        Command::Replay { room, until } => {
            let pool = settings.connect().await?;
            for line in query_api::replay_timeline(&pool, room, until).await? {
                println!("{}", inert::inert(&line));
            }
            Ok(())
        }
        Command::Rebuild => tools::rebuild(&migrated(settings).await?).await,
        Command::Verify => tools::verify(&migrated(settings).await?).await,
        Command::Dlq(command) => tools::dead_letters(settings, command).await,
        Command::Role(command) => tools::change_role(&migrated(settings).await?, command).await,
        Command::Probe { url, timeout } => ops::probe(&url, timeout).await,
        serving => run_roles(Roles::of(&serving), settings).await,
    }
}

/// Runs the roles of a long-running subcommand until the process is told to stop: its workers,
/// and its HTTP routes (every role has its health, readiness and metrics). Stopping follows
/// [`lifecycle`]: serving first, then the workers, all within [`lifecycle::GRACE`].
async fn run_roles(roles: Roles, settings: &Settings) -> anyhow::Result<()> {
    startup::check(settings, roles)?;
    migrated(settings).await?.close().await;
    let pools = settings.pools()?;
    let ops = Ops::new(roles, &pools, settings)?;
    let lifecycle = Lifecycle::default();
    let stop_workers = CancellationToken::new();
    ops.spawn_upkeep(stop_workers.clone());
    let workers = spawn_workers(roles, &pools, settings, &ops, &stop_workers)?;
    let app = build_app(&pools, settings, roles, &lifecycle, &ops).await?;
    let listener = api_kit::listen(&settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    let address = listener.local_addr()?;
    if roles.serves_api() {
        tracing::info!("serving on http://{address} (API docs at http://{address}/docs/)");
    } else {
        tracing::info!("serving health, readiness and metrics on http://{address}");
    }
    let serving = serve(listener, app, lifecycle.shutdown.clone().cancelled_owned());
    let shutdown = lifecycle.shutdown.clone();
    tokio::spawn(async move {
        lifecycle::stop_signal().await;
        shutdown.cancel();
    });
    let stopped = async {
        let served = serving.await;
        lifecycle.sockets_closed().await;
        stop_workers.cancel();
        futures::future::join_all(workers).await;
        served
    };
    let out_of_time = async {
        lifecycle.shutdown.cancelled().await;
        tokio::time::sleep(lifecycle::GRACE).await;
    };
    tokio::select! {
        stopped = stopped => stopped,
        () = out_of_time => anyhow::bail!("still stopping {:?} after the signal; exiting anyway", lifecycle::GRACE),
    }
}

async fn migrated(settings: &Settings) -> anyhow::Result<sqlx::PgPool> {
    let pool = settings.connect().await?;
    eventstore::MIGRATOR
        .run(&pool)
        .await
        .context("running migrations")?;
    Ok(pool)
}
