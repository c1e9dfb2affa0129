//! The `chat` binary's library: configuration, the roles it can run, and how they are composed
//! on one origin. `main.rs` only parses the command line and calls [`run`].

pub mod app;
pub mod config;
pub mod openapi;
mod telemetry;

pub use app::{build_app, serve, Roles};
pub use config::{Cli, Command, Settings};

use anyhow::Context;

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
            migrated_pool(settings).await?;
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
        Command::All => serve_roles(settings, Roles::ALL).await,
        Command::CommandApi => {
            let roles = Roles {
                command_api: true,
                query_api: false,
            };
            serve_roles(settings, roles).await
        }
        Command::QueryApi => {
            let roles = Roles {
                command_api: false,
                query_api: true,
            };
            serve_roles(settings, roles).await
        }
    }
}

async fn migrated_pool(settings: &Settings) -> anyhow::Result<sqlx::PgPool> {
    let pool = settings.connect().await?;
    eventstore::MIGRATOR
        .run(&pool)
        .await
        .context("running migrations")?;
    Ok(pool)
}

async fn serve_roles(settings: &Settings, roles: Roles) -> anyhow::Result<()> {
    let pool = migrated_pool(settings).await?;
    let app = build_app(pool, settings, roles)?;
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    let address = listener.local_addr()?;
    tracing::info!("serving on http://{address} (API docs at http://{address}/docs/)");
    serve(listener, app, shutdown_signal()).await
}

async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_ok() {
        tracing::info!("shutting down");
    }
}
