//! A batch's events put in the order they apply in, with the gaps filled from the store.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bus::EventEnvelope;
use cqrs_es::Aggregate;
use domain::{Room, RoomEvent};
use eventstore::log::{UserEvents, PAGE_SIZE};
use eventstore::EventLog;
use sqlx::PgConnection;

use crate::apply::Incoming;
use crate::checkpoints::{checkpoints, AggregateKey};
use crate::event::{decode, Change};
use crate::ProjectorError;

/// A batch's events in the order they apply in: per aggregate by sequence, duplicates left out
/// (retried ones excepted), the events a gap leaves out read from the store; and each
/// aggregate's checkpoint after them. The batch's own events are borrowed: a batch the database
/// refuses is applied again from the same events (see `poison`).
pub(crate) struct InOrder<'a> {
    pub(crate) events: Vec<Cow<'a, Incoming>>,
    pub(crate) checkpoints: BTreeMap<AggregateKey, i64>,
    /// Whether it holds retried events at or below their aggregate's checkpoint: only their
    /// rows can be in the tables already.
    pub(crate) reapplies: bool,
}

pub(crate) async fn in_order<'a>(
    connection: &mut PgConnection,
    incoming: &'a [Incoming],
) -> Result<InOrder<'a>, ProjectorError> {
    let mut by_aggregate: BTreeMap<AggregateKey, Vec<&Incoming>> = BTreeMap::new();
    for event in incoming {
        let key = (
            event.envelope.aggregate_type.clone(),
            event.envelope.aggregate_id.clone(),
        );
        by_aggregate.entry(key).or_default().push(event);
    }
    let checkpoints = checkpoints(connection, by_aggregate.keys()).await?;
    let mut in_order = InOrder {
        events: Vec::new(),
        checkpoints: BTreeMap::new(),
        reapplies: false,
    };
    for (key, mut events) in by_aggregate {
        events.sort_by_key(|event| event.envelope.sequence);
        events.dedup_by_key(|event| event.envelope.sequence);
        let before = checkpoints.get(&key).copied().unwrap_or(0);
        let mut applied = before;
        for event in events {
            let sequence = event.envelope.sequence;
            if sequence <= applied {
                if !event.retried {
                    continue;
                }
                if superseded(connection, &event.envelope, applied).await? {
                    tracing::info!(
                        aggregate_id = key.1,
                        sequence,
                        event_type = event.envelope.event_type,
                        "skipping a retried event: a later change of the same member is applied"
                    );
                } else {
                    in_order.events.push(Cow::Borrowed(event));
                    in_order.reapplies = true;
                }
                continue;
            }
            if sequence > applied + 1 {
                for missing in missing(connection, &key, applied, sequence).await? {
                    applied = missing.sequence;
                    in_order.events.push(Cow::Owned(missing.into()));
                }
                if applied + 1 != sequence {
                    tracing::error!(
                        aggregate_type = key.0,
                        aggregate_id = key.1,
                        from = applied + 1,
                        to = sequence - 1,
                        "the event store lacks these sequences; projecting past them"
                    );
                }
            }
            applied = sequence;
            in_order.events.push(Cow::Borrowed(event));
        }
        if applied > before {
            in_order.checkpoints.insert(key, applied);
        }
    }
    Ok(in_order)
}

/// The events of an aggregate strictly between two sequences, from the store, page by page.
async fn missing(
    connection: &mut PgConnection,
    (aggregate_type, aggregate_id): &AggregateKey,
    after: i64,
    before: i64,
) -> Result<Vec<EventEnvelope>, ProjectorError> {
    let mut log = EventLog::on(connection);
    let mut missing = Vec::new();
    let mut after = after;
    loop {
        let page = log
            .events_between(aggregate_type, aggregate_id, after, before)
            .await?;
        let more = page.len() == PAGE_SIZE;
        if let Some(last) = page.last() {
            after = last.sequence;
        }
        missing.extend(page);
        if !more {
            return Ok(missing);
        }
    }
}

/// The room events that change a member: a join, a leave or a role change.
const MEMBERSHIP_CHANGES: [&str; 3] = ["MemberJoined", "MemberLeft", "MemberRoleChanged"];

/// Whether a retried membership event (a join, a leave or a role change) is overtaken: the store
/// holds a later one of the same room and user, up to `checkpoint`, so the tables show it
/// already and applying the retried one would undo it (a join bringing back a member who left).
/// Other events give the same rows however late they come.
async fn superseded(
    connection: &mut PgConnection,
    envelope: &EventEnvelope,
    checkpoint: i64,
) -> Result<bool, ProjectorError> {
    let Ok(Change::Room { event, .. }) = decode(envelope) else {
        return Ok(false);
    };
    let member = match event {
        RoomEvent::MemberJoined { user_id, .. }
        | RoomEvent::MemberLeft { user_id, .. }
        | RoomEvent::MemberRoleChanged { user_id, .. } => user_id,
        RoomEvent::RoomCreated { .. }
        | RoomEvent::MessagePosted(_)
        | RoomEvent::MessageEdited { .. }
        | RoomEvent::MessageDeleted { .. }
        | RoomEvent::ReactionAdded { .. }
        | RoomEvent::ReactionRemoved { .. } => return Ok(false),
    };
    let later = UserEvents {
        aggregate_type: Room::TYPE,
        aggregate_id: &envelope.aggregate_id,
        after_sequence: envelope.sequence,
        up_to_sequence: checkpoint,
        event_types: &MEMBERSHIP_CHANGES,
        user_id: &member.to_string(),
    };
    Ok(EventLog::on(connection).any_of_user(later).await?)
}
