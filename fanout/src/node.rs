//! The node's one consumer of the bus: every room event, once per node, into the hub, and every
//! read position's move to the sockets of its room.

use bus::{BusConfig, EventEnvelope, NodeFeed};
use domain::{Aggregate, ReadEvent, ReadPositions, Room};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::frames::PresentUser;
use crate::{FanoutError, Hub, RoomRecord};

/// Subscribes the node to the bus (the queue is bound when this answers, so every event
/// committed from now on reaches the hub) and feeds the hub until `shutdown`.
pub async fn start(
    hub: Hub,
    bus: &BusConfig,
    shutdown: CancellationToken,
) -> Result<(), FanoutError> {
    let feed = bus::node_feed(bus).await?;
    tokio::spawn(consume(hub, feed, shutdown).instrument(tracing::info_span!("fanout_feed")));
    Ok(())
}

async fn consume(hub: Hub, mut feed: mpsc::Receiver<NodeFeed>, shutdown: CancellationToken) {
    loop {
        let item = tokio::select! {
            () = shutdown.cancelled() => return,
            item = feed.recv() => item,
        };
        match item {
            Some(NodeFeed::Event(envelope)) if envelope.aggregate_type == ReadPositions::TYPE => {
                match serde_json::from_value(envelope.payload) {
                    Ok(ReadEvent::ReadPositionMoved {
                        room_id,
                        user_id,
                        username,
                        seq,
                        ..
                    }) => hub.read_moved(room_id, &PresentUser { user_id, username }, seq),
                    Err(error) => {
                        tracing::warn!(%error, "skipping a read position the hub cannot read")
                    }
                }
            }
            Some(NodeFeed::Event(envelope)) => match record(envelope) {
                Ok(Some(record)) => hub.dispatch(&record),
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "skipping an event the hub cannot read"),
            },
            Some(NodeFeed::Reconnected) => hub.resync(),
            None => {
                tracing::error!("the bus feed ended; live delivery has stopped on this node");
                return;
            }
        }
    }
}

/// A room event off the wire; `None` for other aggregates.
fn record(envelope: EventEnvelope) -> Result<Option<RoomRecord>, FanoutError> {
    if envelope.aggregate_type != Room::TYPE {
        return Ok(None);
    }
    let room_id =
        Uuid::parse_str(&envelope.aggregate_id).map_err(|cause| FanoutError::UnreadableRoomId {
            room_id: envelope.aggregate_id.clone(),
            seq: envelope.sequence,
            cause,
        })?;
    let event = serde_json::from_value(envelope.payload).map_err(|cause| {
        FanoutError::UnreadablePayload {
            room_id: envelope.aggregate_id,
            seq: envelope.sequence,
            cause,
        }
    })?;
    Ok(Some(RoomRecord {
        room_id,
        seq: envelope.sequence,
        event,
    }))
}
