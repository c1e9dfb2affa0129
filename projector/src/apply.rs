//! Applying events to the read tables of one schema, exactly once and in order per aggregate.
//!
//! For each event: a sequence at or below the aggregate's checkpoint is a duplicate and skipped;
//! the next one is applied; one further ahead first has the missing events read from the store.
//! A batch of any size is one transaction of a handful of statements: rows of one kind go in
//! together, and the checkpoints advance in the same transaction as the rows they cover.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;

use bus::{EventEnvelope, Feed};
use chrono::{DateTime, Utc};
use domain::{Role, RoomEvent};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::event::{decode, Change};
use crate::ProjectorError;

/// An event to apply. `retried` ones come back from the dead-letter queue and are applied even
/// though the checkpoint has moved past them (every apply is idempotent by itself), unless a
/// later change of the same room member has been applied since (see `superseded`).
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub(crate) envelope: EventEnvelope,
    pub(crate) retried: bool,
}

impl From<EventEnvelope> for Incoming {
    fn from(envelope: EventEnvelope) -> Self {
        Self {
            envelope,
            retried: false,
        }
    }
}

/// An event that cannot be applied, and why. The projection moves past it.
#[derive(Debug)]
pub(crate) struct Poisoned {
    pub(crate) envelope: EventEnvelope,
    pub(crate) reason: String,
}

/// Where poisoned events go: the live projector's dead-letter queue, or a rebuild's log (the
/// live projector already dead-lettered them).
pub(crate) trait PoisonSink: Send {
    fn poisoned(
        &mut self,
        poisoned: &Poisoned,
    ) -> impl Future<Output = Result<(), ProjectorError>> + Send;
}

pub(crate) struct DeadLetters<'a, F>(pub(crate) &'a mut F);

impl<F: Feed> PoisonSink for DeadLetters<'_, F> {
    async fn poisoned(&mut self, poisoned: &Poisoned) -> Result<(), ProjectorError> {
        tracing::warn!(
            aggregate_type = poisoned.envelope.aggregate_type,
            aggregate_id = poisoned.envelope.aggregate_id,
            sequence = poisoned.envelope.sequence,
            reason = poisoned.reason,
            "dead-lettering an event the projection cannot apply"
        );
        let body = serde_json::to_vec(&poisoned.envelope).expect("an envelope serialises");
        let routing_key = poisoned.envelope.routing_key();
        self.0
            .dead_letter(&body, &routing_key, &poisoned.reason)
            .await?;
        Ok(())
    }
}

/// Poisoned events are only logged.
pub(crate) struct LogPoisoned;

impl PoisonSink for LogPoisoned {
    async fn poisoned(&mut self, poisoned: &Poisoned) -> Result<(), ProjectorError> {
        tracing::warn!(
            position = poisoned.envelope.position,
            reason = poisoned.reason,
            "skipping an event the projection cannot apply"
        );
        Ok(())
    }
}

/// Which copy of the read tables a transaction writes.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    schema: String,
    /// The live tables: writers take turns (a transaction-level lock, which a swap also takes)
    /// and every commit notifies read-your-writes waiters.
    live: bool,
}

/// Serialises writers of the live tables: projectors, their catch-up, and a rebuild's swap.
const LIVE_PROJECTION_LOCK: i64 = 0x6368_6174_5f70_726f;

impl Target {
    pub(crate) fn live() -> Self {
        Self {
            schema: "public".into(),
            live: true,
        }
    }

    pub(crate) fn copy(schema: &str) -> Self {
        Self {
            schema: schema.into(),
            live: false,
        }
    }

    /// Points the transaction on `connection` at this target's tables (unqualified names in
    /// the statements below resolve there; the event store is always named `public.events`).
    pub(crate) async fn enter(&self, connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query(ENTER)
            .bind(&self.schema)
            .bind(self.live.then_some(LIVE_PROJECTION_LOCK))
            .execute(connection)
            .await?;
        Ok(())
    }

    pub(crate) async fn committing(
        &self,
        connection: &mut PgConnection,
    ) -> Result<(), sqlx::Error> {
        if self.live {
            sqlx::query(NOTIFY).execute(connection).await?;
        }
        Ok(())
    }
}

// Commits do not wait for the disk (it halved the projection's p99 lag under load): the tables
// are derived, and what a PostgreSQL crash takes back is applied again from the store. A copy
// being built is thrown away anyway; the live projector catches up after every server restart
// (see `live::run`), and the next event of an aggregate fills any gap before it.
const ENTER: &str = "
SELECT set_config('search_path', $1, true),
       CASE WHEN $2::bigint IS NOT NULL THEN pg_advisory_xact_lock($2) END,
       set_config('synchronous_commit', 'off', true)";

const NOTIFY: &str = "SELECT pg_notify('projection', '')";

/// How a batch went.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Applied {
    pub(crate) events: usize,
    pub(crate) poisoned: usize,
}

/// Applies `incoming` to `target` in one transaction.
pub(crate) async fn apply(
    pool: &PgPool,
    target: &Target,
    incoming: Vec<Incoming>,
    sink: &mut impl PoisonSink,
) -> Result<Applied, ProjectorError> {
    let mut transaction = pool.begin().await?;
    target.enter(&mut transaction).await?;
    let applied = apply_in(&mut transaction, incoming, sink).await?;
    target.committing(&mut transaction).await?;
    transaction.commit().await?;
    Ok(applied)
}

/// Applies `incoming` inside the caller's transaction, already pointed at its target.
/// Poisoned events reach `sink` after the writes and before the commit: none is lost between a
/// commit and its dead-lettering, and a batch the database refuses has dead-lettered nothing
/// yet when its events are tried again one by one (see `poison`).
pub(crate) async fn apply_in(
    connection: &mut PgConnection,
    incoming: Vec<Incoming>,
    sink: &mut impl PoisonSink,
) -> Result<Applied, ProjectorError> {
    let mut plan = Plan::make(connection, incoming).await?;
    let poisoned = std::mem::take(&mut plan.poisoned);
    let applied = Applied {
        events: plan.staged,
        poisoned: poisoned.len(),
    };
    plan.execute(connection).await?;
    for poisoned in &poisoned {
        sink.poisoned(poisoned).await?;
    }
    Ok(applied)
}

pub(crate) type AggregateKey = (String, String);

/// What a batch will write, gathered per table.
#[derive(Default)]
struct Plan {
    users: Users,
    rooms: Rooms,
    /// In sequence order per room: a join, a leave and a join again must land in that order.
    membership: Vec<Membership>,
    messages: Messages,
    last_seqs: HashMap<Uuid, i64>,
    checkpoints: BTreeMap<AggregateKey, i64>,
    poisoned: Vec<Poisoned>,
    staged: usize,
}

#[derive(Default)]
struct Users {
    ids: Vec<Uuid>,
    usernames: Vec<String>,
    created_at: Vec<DateTime<Utc>>,
}

#[derive(Default)]
struct Rooms {
    ids: Vec<Uuid>,
    names: Vec<String>,
    private: Vec<bool>,
    created_by: Vec<Uuid>,
    created_at: Vec<DateTime<Utc>>,
}

enum Membership {
    Joined {
        room_id: Uuid,
        user_id: Uuid,
        username: String,
        role: Role,
        at: DateTime<Utc>,
    },
    Left {
        room_id: Uuid,
        user_id: Uuid,
    },
    RoleChanged {
        room_id: Uuid,
        user_id: Uuid,
        role: Role,
    },
}

#[derive(Default)]
struct Messages {
    room_ids: Vec<Uuid>,
    seqs: Vec<i64>,
    ids: Vec<Uuid>,
    user_ids: Vec<Uuid>,
    usernames: Vec<String>,
    contents: Vec<String>,
    client_msg_ids: Vec<Option<String>>,
    created_at: Vec<DateTime<Utc>>,
}

/// A batch's events in the order they apply in: per aggregate by sequence, duplicates left out
/// (retried ones excepted), the events a gap leaves out read from the store; and each
/// aggregate's checkpoint after them.
pub(crate) struct InOrder {
    pub(crate) events: Vec<Incoming>,
    checkpoints: BTreeMap<AggregateKey, i64>,
}

pub(crate) async fn in_order(
    connection: &mut PgConnection,
    incoming: Vec<Incoming>,
) -> Result<InOrder, sqlx::Error> {
    let mut by_aggregate: BTreeMap<AggregateKey, Vec<Incoming>> = BTreeMap::new();
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
                    in_order.events.push(event);
                }
                continue;
            }
            if sequence > applied + 1 {
                for missing in missing(connection, &key, applied, sequence).await? {
                    applied = missing.sequence;
                    in_order.events.push(missing.into());
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
            in_order.events.push(event);
        }
        if applied > before {
            in_order.checkpoints.insert(key, applied);
        }
    }
    Ok(in_order)
}

impl Plan {
    async fn make(
        connection: &mut PgConnection,
        incoming: Vec<Incoming>,
    ) -> Result<Self, sqlx::Error> {
        let in_order = in_order(connection, incoming).await?;
        let mut plan = Plan {
            checkpoints: in_order.checkpoints,
            ..Plan::default()
        };
        for event in in_order.events {
            plan.stage(event.envelope);
        }
        Ok(plan)
    }

    fn stage(&mut self, envelope: EventEnvelope) {
        let sequence = envelope.sequence;
        let (room_id, event) = match decode(&envelope) {
            Err(reason) => {
                self.poisoned.push(Poisoned { envelope, reason });
                return;
            }
            Ok(Change::UserRegistered {
                user_id,
                username,
                registered_at,
            }) => {
                self.staged += 1;
                self.users.ids.push(user_id);
                self.users.usernames.push(username);
                self.users.created_at.push(registered_at);
                return;
            }
            Ok(Change::Room { room_id, event }) => (room_id, event),
        };
        self.staged += 1;
        let last = self.last_seqs.entry(room_id).or_default();
        *last = (*last).max(sequence);
        match event {
            RoomEvent::RoomCreated {
                room_id,
                name,
                is_private,
                created_by,
                created_at,
                ..
            } => {
                self.rooms.ids.push(room_id);
                self.rooms.names.push(name);
                self.rooms.private.push(is_private);
                self.rooms.created_by.push(created_by);
                self.rooms.created_at.push(created_at);
            }
            RoomEvent::MemberJoined {
                user_id,
                username,
                role,
                joined_at,
            } => self.membership.push(Membership::Joined {
                room_id,
                user_id,
                username,
                role,
                at: joined_at,
            }),
            RoomEvent::MemberLeft { user_id, .. } => {
                self.membership.push(Membership::Left { room_id, user_id });
            }
            RoomEvent::MemberRoleChanged { user_id, role, .. } => {
                self.membership.push(Membership::RoleChanged {
                    room_id,
                    user_id,
                    role,
                });
            }
            RoomEvent::MessagePosted {
                message_id,
                user_id,
                username,
                content,
                client_msg_id,
                posted_at,
            } => {
                let messages = &mut self.messages;
                messages.room_ids.push(room_id);
                messages.seqs.push(sequence);
                messages.ids.push(message_id);
                messages.user_ids.push(user_id);
                messages.usernames.push(username);
                messages.contents.push(content);
                messages.client_msg_ids.push(client_msg_id);
                messages.created_at.push(posted_at);
            }
        }
    }

    async fn execute(self, connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        if !self.users.ids.is_empty() {
            sqlx::query(INSERT_USERS)
                .bind(&self.users.ids)
                .bind(&self.users.usernames)
                .bind(&self.users.created_at)
                .execute(&mut *connection)
                .await?;
        }
        if !self.rooms.ids.is_empty() {
            sqlx::query(INSERT_ROOMS)
                .bind(&self.rooms.ids)
                .bind(&self.rooms.names)
                .bind(&self.rooms.private)
                .bind(&self.rooms.created_by)
                .bind(&self.rooms.created_at)
                .execute(&mut *connection)
                .await?;
        }
        for wave in waves(&self.membership) {
            wave.execute(connection).await?;
        }
        if !self.messages.ids.is_empty() {
            let messages = &self.messages;
            sqlx::query(INSERT_MESSAGES)
                .bind(&messages.room_ids)
                .bind(&messages.seqs)
                .bind(&messages.ids)
                .bind(&messages.user_ids)
                .bind(&messages.usernames)
                .bind(&messages.contents)
                .bind(&messages.client_msg_ids)
                .bind(&messages.created_at)
                .execute(&mut *connection)
                .await?;
        }
        if !self.last_seqs.is_empty() {
            let (rooms, seqs): (Vec<Uuid>, Vec<i64>) = self.last_seqs.into_iter().unzip();
            sqlx::query(ADVANCE_ROOMS)
                .bind(&rooms)
                .bind(&seqs)
                .execute(&mut *connection)
                .await?;
        }
        if !self.checkpoints.is_empty() {
            advance_checkpoints(connection, self.checkpoints).await?;
        }
        Ok(())
    }
}

/// Moves checkpoints forward (never back) to the sequences given.
pub(crate) async fn advance_checkpoints(
    connection: &mut PgConnection,
    checkpoints: BTreeMap<AggregateKey, i64>,
) -> Result<(), sqlx::Error> {
    let mut types = Vec::with_capacity(checkpoints.len());
    let mut ids = Vec::with_capacity(checkpoints.len());
    let mut seqs = Vec::with_capacity(checkpoints.len());
    for ((aggregate_type, aggregate_id), seq) in checkpoints {
        types.push(aggregate_type);
        ids.push(aggregate_id);
        seqs.push(seq);
    }
    sqlx::query(ADVANCE_CHECKPOINTS)
        .bind(&types)
        .bind(&ids)
        .bind(&seqs)
        .execute(connection)
        .await?;
    Ok(())
}

// Every write is idempotent on its own (a retried dead letter may be applied again), and
// `ON CONFLICT DO NOTHING` without a target also absorbs a duplicate message id.
const INSERT_USERS: &str = "
INSERT INTO users (id, username, created_at)
SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[])
ON CONFLICT DO NOTHING";

const INSERT_ROOMS: &str = "
INSERT INTO rooms (id, name, is_private, created_by, created_at)
SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::boolean[], $4::uuid[], $5::timestamptz[])
ON CONFLICT DO NOTHING";

const INSERT_MESSAGES: &str = "
INSERT INTO messages (room_id, seq, id, user_id, username, content, client_msg_id, created_at)
SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::uuid[], $4::uuid[], $5::text[], $6::text[],
                     $7::text[], $8::timestamptz[])
ON CONFLICT DO NOTHING";

const ADVANCE_ROOMS: &str = "
UPDATE rooms r SET last_seq = greatest(r.last_seq, u.seq)
  FROM UNNEST($1::uuid[], $2::bigint[]) AS u(id, seq)
 WHERE r.id = u.id";

const ADVANCE_CHECKPOINTS: &str = "
INSERT INTO projection_checkpoints (aggregate_type, aggregate_id, last_seq)
SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[])
ON CONFLICT (aggregate_type, aggregate_id)
DO UPDATE SET last_seq = greatest(projection_checkpoints.last_seq, EXCLUDED.last_seq)";

impl Membership {
    fn member(&self) -> (Uuid, Uuid) {
        match self {
            Membership::Joined {
                room_id, user_id, ..
            }
            | Membership::Left { room_id, user_id }
            | Membership::RoleChanged {
                room_id, user_id, ..
            } => (*room_id, *user_id),
        }
    }
}

/// Membership changes that touch each member at most once, so they can be written together in
/// any order: a statement per kind rather than one per change.
#[derive(Default)]
struct Wave {
    members: HashSet<(Uuid, Uuid)>,
    joined: Joined,
    left_rooms: Vec<Uuid>,
    left_users: Vec<Uuid>,
    changed_rooms: Vec<Uuid>,
    changed_users: Vec<Uuid>,
    changed_roles: Vec<&'static str>,
}

#[derive(Default)]
struct Joined {
    rooms: Vec<Uuid>,
    users: Vec<Uuid>,
    usernames: Vec<String>,
    roles: Vec<&'static str>,
    at: Vec<DateTime<Utc>>,
}

/// Splits `changes` into waves, in order: a change to a member already in the current wave
/// starts the next one, so a join, a leave and a join again stay in that order.
fn waves(changes: &[Membership]) -> Vec<Wave> {
    let mut waves = vec![Wave::default()];
    for change in changes {
        let member = change.member();
        if waves
            .last()
            .is_some_and(|wave| wave.members.contains(&member))
        {
            waves.push(Wave::default());
        }
        let wave = waves.last_mut().expect("one wave at least");
        wave.members.insert(member);
        match change {
            Membership::Joined {
                room_id,
                user_id,
                username,
                role,
                at,
            } => {
                wave.joined.rooms.push(*room_id);
                wave.joined.users.push(*user_id);
                wave.joined.usernames.push(username.clone());
                wave.joined.roles.push(role_name(*role));
                wave.joined.at.push(*at);
            }
            Membership::Left { room_id, user_id } => {
                wave.left_rooms.push(*room_id);
                wave.left_users.push(*user_id);
            }
            Membership::RoleChanged {
                room_id,
                user_id,
                role,
            } => {
                wave.changed_rooms.push(*room_id);
                wave.changed_users.push(*user_id);
                wave.changed_roles.push(role_name(*role));
            }
        }
    }
    waves
}

impl Wave {
    async fn execute(&self, connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        if !self.joined.rooms.is_empty() {
            sqlx::query(MEMBERS_JOINED)
                .bind(&self.joined.rooms)
                .bind(&self.joined.users)
                .bind(&self.joined.usernames)
                .bind(&self.joined.roles)
                .bind(&self.joined.at)
                .execute(&mut *connection)
                .await?;
        }
        if !self.left_rooms.is_empty() {
            sqlx::query(MEMBERS_LEFT)
                .bind(&self.left_rooms)
                .bind(&self.left_users)
                .execute(&mut *connection)
                .await?;
        }
        if !self.changed_rooms.is_empty() {
            sqlx::query(ROLES_CHANGED)
                .bind(&self.changed_rooms)
                .bind(&self.changed_users)
                .bind(&self.changed_roles)
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Member => "member",
    }
}

// Member counts move only by the rows that really came or went, so applying twice counts once.
const MEMBERS_JOINED: &str = "
WITH joined AS (
    INSERT INTO room_members (room_id, user_id, username, role, joined_at)
    SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
    ON CONFLICT DO NOTHING
    RETURNING room_id)
UPDATE rooms r SET member_count = r.member_count + j.n
  FROM (SELECT room_id, count(*) AS n FROM joined GROUP BY room_id) j
 WHERE r.id = j.room_id";

const MEMBERS_LEFT: &str = "
WITH gone AS (
    DELETE FROM room_members m
     USING UNNEST($1::uuid[], $2::uuid[]) AS g(room_id, user_id)
     WHERE m.room_id = g.room_id AND m.user_id = g.user_id
    RETURNING m.room_id)
UPDATE rooms r SET member_count = r.member_count - g.n
  FROM (SELECT room_id, count(*) AS n FROM gone GROUP BY room_id) g
 WHERE r.id = g.room_id";

const ROLES_CHANGED: &str = "
UPDATE room_members m SET role = c.role
  FROM UNNEST($1::uuid[], $2::uuid[], $3::text[]) AS c(room_id, user_id, role)
 WHERE m.room_id = c.room_id AND m.user_id = c.user_id";

async fn checkpoints<'a>(
    connection: &mut PgConnection,
    keys: impl Iterator<Item = &'a AggregateKey>,
) -> Result<HashMap<AggregateKey, i64>, sqlx::Error> {
    let (types, ids): (Vec<&str>, Vec<&str>) = keys
        .map(|(aggregate_type, aggregate_id)| (aggregate_type.as_str(), aggregate_id.as_str()))
        .unzip();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(CHECKPOINTS)
        .bind(&types)
        .bind(&ids)
        .fetch_all(connection)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(aggregate_type, aggregate_id, seq)| ((aggregate_type, aggregate_id), seq))
        .collect())
}

const CHECKPOINTS: &str = "
SELECT c.aggregate_type, c.aggregate_id, c.last_seq
  FROM projection_checkpoints c
  JOIN UNNEST($1::text[], $2::text[]) AS k(aggregate_type, aggregate_id)
       ON c.aggregate_type = k.aggregate_type AND c.aggregate_id = k.aggregate_id";

/// Whether a retried membership event (a join, a leave or a role change) is overtaken: the store
/// holds a later one of the same room and user, up to `checkpoint`, so the tables show it
/// already and applying the retried one would undo it (a join bringing back a member who left).
/// Other events give the same rows however late they come.
async fn superseded(
    connection: &mut PgConnection,
    envelope: &EventEnvelope,
    checkpoint: i64,
) -> Result<bool, sqlx::Error> {
    let Ok(Change::Room { event, .. }) = decode(envelope) else {
        return Ok(false);
    };
    let member = match event {
        RoomEvent::MemberJoined { user_id, .. }
        | RoomEvent::MemberLeft { user_id, .. }
        | RoomEvent::MemberRoleChanged { user_id, .. } => user_id,
        RoomEvent::RoomCreated { .. } | RoomEvent::MessagePosted { .. } => return Ok(false),
    };
    sqlx::query_scalar(LATER_MEMBERSHIP_CHANGE)
        .bind(&envelope.aggregate_id)
        .bind(envelope.sequence)
        .bind(checkpoint)
        .bind(member.to_string())
        .fetch_one(connection)
        .await
}

// A payload is stored as cqrs-es serialises an event, `{"MemberLeft": {"user_id": ..., ...}}`:
// `payload -> event_type` is the event's fields.
const LATER_MEMBERSHIP_CHANGE: &str = "
SELECT EXISTS (
    SELECT 1
      FROM public.events
     WHERE aggregate_type = 'Room' AND aggregate_id = $1 AND sequence > $2 AND sequence <= $3
       AND event_type IN ('MemberJoined', 'MemberLeft', 'MemberRoleChanged')
       AND payload -> event_type ->> 'user_id' = $4)";

/// The events of an aggregate strictly between two sequences, from the store. They are
/// committed: a later sequence exists, and it could only be written after them.
async fn missing(
    connection: &mut PgConnection,
    (aggregate_type, aggregate_id): &AggregateKey,
    after: i64,
    before: i64,
) -> Result<Vec<EventEnvelope>, sqlx::Error> {
    sqlx::query_as(MISSING)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after)
        .bind(before)
        .fetch_all(connection)
        .await
}

const MISSING: &str = "
SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
       metadata, recorded_at
  FROM public.events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 AND sequence < $4
 ORDER BY sequence";
