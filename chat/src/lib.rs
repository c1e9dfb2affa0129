//! The `chat` binary's library: configuration, the roles it can run, and how they are composed
//! on one origin. `main.rs` only parses the command line and calls [`run`].

pub mod app;
pub mod config;
pub mod openapi;
mod roles;
mod telemetry;
mod tools;
mod workers;

pub use app::{build_app, serve};
pub use config::{Cli, Command, DlqCommand, Settings};
pub use roles::Roles;
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
                println!("{line}");
            }
            Ok(())
        }
        Command::Rebuild => tools::rebuild(&migrated(settings).await?).await,
        Command::Verify => tools::verify(&migrated(settings).await?).await,
        Command::Dlq(command) => tools::dead_letters(settings, command).await,
        serving => run_roles(Roles::of(serving), settings).await,
    }
}

/// Runs the roles of a long-running subcommand until the process is told to stop: its workers,
/// and its HTTP routes when it has any.
async fn run_roles(roles: Roles, settings: &Settings) -> anyhow::Result<()> {
    let pool = migrated(settings).await?;
    let shutdown = CancellationToken::new();
    let workers = spawn_workers(roles, &pool, settings, &shutdown)?;
    let served = if roles.serves_http() {
        let app = build_app(pool, settings, roles, &shutdown).await?;
        let listener = api_kit::listen(&settings.listen)
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        let address = listener.local_addr()?;
        tracing::info!("serving on http://{address} (API docs at http://{address}/docs/)");
        let stop = shutdown.clone();
        serve(listener, app, async move {
            shutdown_signal().await;
            stop.cancel();
        })
        .await
    } else {
        shutdown_signal().await;
        Ok(())
    };
    shutdown.cancel();
    futures::future::join_all(workers).await;
    served
}

async fn migrated(settings: &Settings) -> anyhow::Result<sqlx::PgPool> {
    let pool = settings.connect().await?;
    eventstore::MIGRATOR
        .run(&pool)
        .await
        .context("running migrations")?;
    Ok(pool)
}

async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_ok() {
        tracing::info!("shutting down");
    }
}
