//! The background work of the roles: the outbox relay in every role that writes events (the
//! command API, and the WebSocket gateway, whose sends are commands too) and the forgetting of
//! day-old `client_msg_id`s there, the projector and the webhook delivery worker in the roles
//! that keep the read tables. The
//! gateway's bus consumer belongs to its routes: see [`crate::build_app`].

use std::time::Duration;

use bus::relay::RelaySettings;
use bus::{AmqpFeed, AmqpPublisher};
use projector::ProjectorSettings;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{Ops, Pools, Roles, Settings};

/// Starts the workers of `roles`; they stop when `shutdown` is cancelled. The projector reports
/// how far behind it is to `ops`.
pub fn spawn_workers(
    roles: Roles,
    pools: &Pools,
    settings: &Settings,
    ops: &Ops,
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let bus = settings.bus()?;
    let mut workers = Vec::new();
    if roles.writes() {
        workers.push(tokio::spawn(bus::relay::run(
            pools.relay.clone(),
            AmqpPublisher::new(bus.clone()),
            RelaySettings::default(),
            shutdown.clone(),
        )));
        workers.push(tokio::spawn(forget_client_msg_ids(
            pools.commands.clone(),
            shutdown.clone(),
        )));
    }
    if roles.projector {
        let projector = ProjectorSettings {
            catch_up_interval: settings.projector_catch_up_interval,
            ..ProjectorSettings::default()
        };
        workers.push(tokio::spawn(projector::run(
            pools.projector.clone(),
            AmqpFeed::projector(bus, projector.prefetch),
            projector,
            ops.projection_lag(),
            shutdown.clone(),
        )));
        workers.push(tokio::spawn(webhooks::run(
            pools.webhooks.clone(),
            settings.bus()?,
            settings.delivery()?,
            shutdown.clone(),
        )));
    }
    Ok(workers)
}

/// How often the `client_msg_id`s past their day are forgotten.
const FORGET_CLIENT_MSG_IDS_EVERY: Duration = Duration::from_secs(60 * 60);

/// Keeps the table of sent `client_msg_id`s to about a day of sends. Every writing process runs
/// it; the deletes of two never disagree.
async fn forget_client_msg_ids(pool: PgPool, shutdown: CancellationToken) {
    loop {
        match commands::forget_expired_client_msg_ids(&pool).await {
            Ok(0) => {}
            Ok(forgotten) => tracing::debug!(forgotten, "forgot expired client_msg_ids"),
            Err(error) => tracing::warn!(
                cause = %api_kit::Chain(&error),
                "forgetting expired client_msg_ids failed; trying again later"
            ),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(FORGET_CLIENT_MSG_IDS_EVERY) => {}
        }
    }
}
