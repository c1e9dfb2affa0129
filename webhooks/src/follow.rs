//! The intake's loop: what the bus brings is queued as deliveries, and what it missed is found
//! at every reconnect and sweep.
//!
//! The queue gets a room's events only while the room has a webhook: the loop binds
//! `Room.<id>.#` when it sees a room's webhooks change (before reading the room's events, so
//! what commits after that read comes by the bus) and unbinds it when the room has none left.
//! Rooms without webhooks, most of them, cost the worker nothing. The binding is the broker's,
//! shared by every worker: should one worker unbind a room just as another binds it for a new
//! webhook, the sweep binds it again when it finds that room's events unqueued.

use std::sync::Arc;

use bus::{AmqpFeed, BusError, Feed, Intake};
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::intake::{self, EventHeader, Moved};
use crate::DeliverySettings;

/// The bus messages taken at once.
pub(crate) const BATCH: usize = 100;

/// A step of the intake that failed; it is tried again.
#[derive(Debug, thiserror::Error)]
enum IntakeError {
    #[error("the database failed")]
    Database(#[from] sqlx::Error),
    #[error("the broker failed")]
    Bus(#[from] BusError),
}

pub(crate) async fn run(
    pool: PgPool,
    mut feed: AmqpFeed,
    settings: DeliverySettings,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let mut sweep = tokio::time::interval(settings.catch_up_interval);
    // The first sweep, at once, also routes every room that has a webhook.
    let mut route_every_room = true;
    loop {
        let intake = tokio::select! {
            () = shutdown.cancelled() => return,
            _ = sweep.tick() => None,
            intake = feed.next_batch(BATCH) => Some(intake),
        };
        let deliveries = match intake {
            Some(Intake::Deliveries(deliveries)) => deliveries,
            None | Some(Intake::Reconnected) => {
                route_every_room |= intake.is_some();
                let swept = tokio::select! {
                    () = shutdown.cancelled() => return,
                    swept = catch_up(&pool, &mut feed, route_every_room) => swept,
                };
                match swept {
                    Ok(added) => {
                        route_every_room = false;
                        if added > 0 {
                            wake.notify_waiters();
                        }
                    }
                    Err(error) => {
                        tracing::warn!(cause = %api_kit::Chain(&error), "webhook sweep failed")
                    }
                }
                continue;
            }
        };
        // Until the database takes the batch, nothing is acknowledged: the broker keeps it.
        loop {
            let queued = tokio::select! {
                () = shutdown.cancelled() => return,
                queued = queue_batch(&pool, &mut feed, &deliveries) => queued,
            };
            match queued {
                Ok(added) => {
                    if added > 0 {
                        wake.notify_waiters();
                    }
                    break;
                }
                Err(error) => {
                    tracing::warn!(cause = %api_kit::Chain(&error), "cannot queue webhook deliveries; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    }
                }
            }
        }
        if let Some(last) = deliveries.last() {
            feed.ack_through(last).await;
        }
    }
}

/// The routing pattern of one room's events.
fn room_events(room_id: Uuid) -> String {
    format!("Room.{room_id}.#")
}

async fn queue_batch(
    pool: &PgPool,
    feed: &mut AmqpFeed,
    deliveries: &[bus::Delivery],
) -> Result<u64, IntakeError> {
    let mut moved = Moved::default();
    for delivery in deliveries {
        let Ok(event) = serde_json::from_slice::<EventHeader>(&delivery.body) else {
            // Not an event: nothing to deliver. The sweep reads the store, not the bus.
            tracing::warn!(
                routing_key = delivery.routing_key,
                "an undecodable bus message was skipped"
            );
            continue;
        };
        moved.add(&event);
    }
    let changed: Vec<Uuid> = moved.webhooks_changed().collect();
    for &room_id in &changed {
        feed.route(&room_events(room_id), true).await?;
    }
    let mut added = 0;
    for room_id in moved.rooms_to_queue(pool).await? {
        added += intake::queue_room(pool, room_id).await?;
    }
    for room_id in changed {
        if !intake::has_webhooks(pool, room_id).await? {
            feed.route(&room_events(room_id), false).await?;
        }
    }
    Ok(added)
}

/// Queues every room the bus left behind (routing its events again, in case a concurrent
/// unbind took them), and forgets deliveries finished long ago. With `route_every_room`, first
/// routes the events of every room that has a webhook: after a start or a reconnect.
async fn catch_up(
    pool: &PgPool,
    feed: &mut AmqpFeed,
    route_every_room: bool,
) -> Result<u64, IntakeError> {
    if route_every_room {
        for room_id in intake::rooms_with_webhooks(pool).await? {
            feed.route(&room_events(room_id), true).await?;
        }
    }
    let mut added = 0;
    for room_id in intake::behind(pool).await? {
        feed.route(&room_events(room_id), true).await?;
        added += intake::queue_room(pool, room_id).await?;
    }
    intake::forget_finished(pool).await?;
    Ok(added)
}
