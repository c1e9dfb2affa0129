//! The `chat` binary's library: configuration, the roles it can run, and how they are composed
//! on one origin. `main.rs` only parses the command line and calls [`run`].

pub mod app;
pub mod config;
pub mod openapi;
mod telemetry;

pub use app::{build_app, serve, Roles};
pub use config::{Cli, Command, Settings};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

/// Runs what the command line asked for until it finishes or the process is told to stop.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.settings.log_format);
    match cli.command {
        Command::Openapi => {
            println!("{}", openapi::document_json());
            Ok(())
        }
        Command::Migrate => {
            let pool = cli.settings.connect().await?;
            eventstore::MIGRATOR
                .run(&pool)
                .await
                .context("running migrations")?;
            tracing::info!("database schema is up to date");
            Ok(())
        }
        Command::CommandApi | Command::Fanout | Command::All => {
            let roles = match cli.command {
                Command::CommandApi => Roles::COMMAND_API,
                Command::Fanout => Roles::FANOUT,
                _ => Roles::ALL,
            };
            let settings = &cli.settings;
            let pool = settings.connect().await?;
            eventstore::MIGRATOR
                .run(&pool)
                .await
                .context("running migrations")?;
            let shutdown = CancellationToken::new();
            let app = build_app(pool, settings, roles, shutdown.clone()).await?;
            let listener = tokio::net::TcpListener::bind(&settings.listen)
                .await
                .with_context(|| format!("binding {}", settings.listen))?;
            let address = listener.local_addr()?;
            tracing::info!("serving on http://{address} (API docs at http://{address}/docs/)");
            serve(listener, app, async move {
                shutdown_signal().await;
                shutdown.cancel();
            })
            .await
        }
    }
}

async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_ok() {
        tracing::info!("shutting down");
    }
}
