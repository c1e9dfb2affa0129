//! The background work of the roles: the outbox relay in every role that writes events (the
//! command API, and the WebSocket gateway, whose sends are commands too), the projector in the
//! roles that keep the read tables. The gateway's bus consumer belongs to its routes: see
//! [`crate::build_app`].

use bus::relay::RelaySettings;
use bus::{AmqpFeed, AmqpPublisher};
use projector::ProjectorSettings;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{Pools, Roles, Settings};

/// Starts the workers of `roles`; they stop when `shutdown` is cancelled.
pub fn spawn_workers(
    roles: Roles,
    pools: &Pools,
    settings: &Settings,
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
            shutdown.clone(),
        )));
    }
    Ok(workers)
}
