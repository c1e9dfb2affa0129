//! What a batch writes, gathered per table so that rows of one kind go in together.

use std::collections::{BTreeMap, HashMap, HashSet};

use bus::EventEnvelope;
use chrono::{DateTime, Utc};
use domain::{RoomEvent, UserRole};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::apply::Incoming;
use crate::changes::MessageChanges;
use crate::checkpoints::{advance_checkpoints, AggregateKey, RoomsAdvanced};
use crate::event::{decode, Change};
use crate::membership::{waves, Membership};
use crate::numbering::{KeptOrdinals, Numbered};
use crate::order::in_order;
use crate::sink::Poisoned;
use crate::ProjectorError;

/// What a batch will write, gathered per table.
#[derive(Default)]
pub(crate) struct Plan {
    users: Users,
    /// In event order: a grant and a revocation must land in that order.
    roles: Vec<(Uuid, UserRole, Option<DateTime<Utc>>)>,
    rooms: Rooms,
    /// In sequence order per room: a join, a leave and a join again must land in that order.
    membership: Vec<Membership>,
    messages: Messages,
    /// The furthest move of each (user, room) in the batch: one row each, so that one
    /// statement can write them.
    reads: HashMap<(Uuid, Uuid), i64>,
    /// After the messages they change, in event order.
    changes: MessageChanges,
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
    bots: Vec<bool>,
}

#[derive(Default)]
struct Rooms {
    ids: Vec<Uuid>,
    names: Vec<String>,
    private: Vec<bool>,
    created_by: Vec<Uuid>,
    created_at: Vec<DateTime<Utc>>,
    kinds: Vec<&'static str>,
}

#[derive(Default)]
struct Messages {
    /// Whether some may be in the table already (see `InOrder::reapplies`).
    reapplies: bool,
    room_ids: Vec<Uuid>,
    seqs: Vec<i64>,
    ids: Vec<Uuid>,
    user_ids: Vec<Uuid>,
    usernames: Vec<String>,
    contents: Vec<String>,
    client_msg_ids: Vec<Option<String>>,
    created_at: Vec<DateTime<Utc>>,
    bots: Vec<bool>,
    reply_to: Vec<Option<Uuid>>,
    mentions: Vec<serde_json::Value>,
}

impl Messages {
    /// Inserts the batch's messages, numbered after the counts `ordinals` keeps or looks up;
    /// answers the newest ordinal each room's and each author's messages took (the rooms' one
    /// update writes a room's beside its sequence).
    async fn insert(
        mut self,
        connection: &mut PgConnection,
        ordinals: &KeptOrdinals,
    ) -> Result<Numbered, sqlx::Error> {
        if self.reapplies {
            self.leave_out_those_already_there(connection).await?;
        }
        let mut numbered = Numbered::default();
        if self.ids.is_empty() {
            return Ok(numbered);
        }
        let unknown = ordinals.unknown(&self.room_ids, &self.user_ids);
        let looked_up = look_up_ordinals(connection, unknown).await?;
        let (in_room, by_author) = ordinals.number(&self.room_ids, &self.user_ids, &looked_up);
        let newest: Vec<(Uuid, Uuid, i64, i64)> = sqlx::query_as(INSERT_MESSAGES)
            .bind(&self.room_ids)
            .bind(&self.seqs)
            .bind(&self.ids)
            .bind(&self.user_ids)
            .bind(&self.usernames)
            .bind(&self.contents)
            .bind(&self.client_msg_ids)
            .bind(&self.created_at)
            .bind(&self.bots)
            .bind(&self.reply_to)
            .bind(&self.mentions)
            .bind(&in_room)
            .bind(&by_author)
            .fetch_all(connection)
            .await?;
        for (room_id, user_id, ordinal, by_author) in newest {
            numbered.record(room_id, user_id, ordinal, by_author);
        }
        Ok(numbered)
    }

    /// Drops the messages the tables hold already, before they take a number: applied twice,
    /// a message is numbered once.
    async fn leave_out_those_already_there(
        &mut self,
        connection: &mut PgConnection,
    ) -> Result<(), sqlx::Error> {
        let there: Vec<(Uuid, i64)> = sqlx::query_as(MESSAGES_ALREADY_THERE)
            .bind(&self.room_ids)
            .bind(&self.user_ids)
            .bind(&self.seqs)
            .fetch_all(connection)
            .await?;
        let there: HashSet<(Uuid, i64)> = there.into_iter().collect();
        let keep: Vec<bool> = self
            .room_ids
            .iter()
            .zip(&self.seqs)
            .map(|(room_id, seq)| !there.contains(&(*room_id, *seq)))
            .collect();
        retain(&mut self.room_ids, &keep);
        retain(&mut self.seqs, &keep);
        retain(&mut self.ids, &keep);
        retain(&mut self.user_ids, &keep);
        retain(&mut self.usernames, &keep);
        retain(&mut self.contents, &keep);
        retain(&mut self.client_msg_ids, &keep);
        retain(&mut self.created_at, &keep);
        retain(&mut self.bots, &keep);
        retain(&mut self.reply_to, &keep);
        retain(&mut self.mentions, &keep);
        Ok(())
    }
}

/// Keeps the items of `column` whose place in `keep` is true.
fn retain<T>(column: &mut Vec<T>, keep: &[bool]) {
    let mut keep = keep.iter();
    column.retain(|_| keep.next().copied().unwrap_or(true));
}

/// Each room's message count and each author's newest ordinal in it, from the tables, for the
/// (room, author) pairs given.
async fn look_up_ordinals(
    connection: &mut PgConnection,
    pairs: Vec<(Uuid, Uuid)>,
) -> Result<Numbered, sqlx::Error> {
    let mut looked_up = Numbered::default();
    if pairs.is_empty() {
        return Ok(looked_up);
    }
    let (rooms, authors): (Vec<Uuid>, Vec<Uuid>) = pairs.into_iter().unzip();
    let rows: Vec<(Uuid, Uuid, i64, i64)> = sqlx::query_as(ORDINALS)
        .bind(&rooms)
        .bind(&authors)
        .fetch_all(connection)
        .await?;
    for (room_id, user_id, in_room, by_author) in rows {
        looked_up.record(room_id, user_id, in_room, by_author);
    }
    Ok(looked_up)
}

impl Plan {
    pub(crate) async fn make(
        connection: &mut PgConnection,
        incoming: &[Incoming],
    ) -> Result<Self, ProjectorError> {
        let in_order = in_order(connection, incoming).await?;
        let mut plan = Plan {
            checkpoints: in_order.checkpoints,
            messages: Messages {
                reapplies: in_order.reapplies,
                ..Messages::default()
            },
            ..Plan::default()
        };
        for event in in_order.events {
            plan.stage(&event.envelope);
        }
        Ok(plan)
    }

    /// The events that cannot be applied; the plan writes the others.
    pub(crate) fn take_poisoned(&mut self) -> Vec<Poisoned> {
        std::mem::take(&mut self.poisoned)
    }

    /// How many events the plan writes.
    pub(crate) fn staged(&self) -> usize {
        self.staged
    }

    /// The checkpoints the plan moves, and to where.
    pub(crate) fn checkpoints(&self) -> &BTreeMap<AggregateKey, i64> {
        &self.checkpoints
    }

    fn stage(&mut self, envelope: &EventEnvelope) {
        let sequence = envelope.sequence;
        let (room_id, event) = match decode(envelope) {
            Err(reason) => {
                self.poisoned.push(Poisoned {
                    envelope: envelope.clone(),
                    reason,
                });
                return;
            }
            Ok(Change::UserRegistered {
                user_id,
                username,
                registered_at,
                is_bot,
            }) => {
                self.staged += 1;
                self.users.ids.push(user_id);
                self.users.usernames.push(username);
                self.users.created_at.push(registered_at);
                self.users.bots.push(is_bot);
                return;
            }
            Ok(Change::UserRole {
                user_id,
                role,
                granted_at,
            }) => {
                self.staged += 1;
                self.roles.push((user_id, role, granted_at));
                return;
            }
            Ok(Change::ReadMoved {
                user_id,
                room_id,
                seq,
            }) => {
                self.staged += 1;
                let read = self.reads.entry((user_id, room_id)).or_default();
                *read = (*read).max(seq);
                return;
            }
            Ok(Change::Unprojected) => {
                self.staged += 1;
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
                kind,
                ..
            } => {
                self.rooms.ids.push(room_id);
                self.rooms.names.push(name);
                self.rooms.private.push(is_private);
                self.rooms.created_by.push(created_by);
                self.rooms.created_at.push(created_at);
                self.rooms.kinds.push(kind.as_str());
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
                seq: sequence,
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
            RoomEvent::MessagePosted(posted) => {
                let messages = &mut self.messages;
                messages.room_ids.push(room_id);
                messages.seqs.push(sequence);
                messages.ids.push(posted.message_id);
                messages.user_ids.push(posted.user_id);
                messages.usernames.push(posted.username);
                messages.contents.push(posted.content);
                messages.client_msg_ids.push(posted.client_msg_id);
                messages.created_at.push(posted.posted_at);
                messages.bots.push(posted.is_bot);
                messages.reply_to.push(posted.reply_to);
                if let Some(answered) = posted.reply_to {
                    self.changes.replied_to(answered);
                }
                messages.mentions.push(serde_json::json!(posted.mentions));
                self.changes.mentioned(
                    room_id,
                    posted.message_id,
                    posted.posted_at,
                    &posted.mentions,
                );
            }
            change => self.changes.stage(sequence, change),
        }
    }

    /// Writes the plan; answers the newest ordinals its messages took.
    pub(crate) async fn execute(
        self,
        connection: &mut PgConnection,
        ordinals: &KeptOrdinals,
    ) -> Result<Numbered, sqlx::Error> {
        if !self.users.ids.is_empty() {
            sqlx::query(INSERT_USERS)
                .bind(&self.users.ids)
                .bind(&self.users.usernames)
                .bind(&self.users.created_at)
                .bind(&self.users.bots)
                .execute(&mut *connection)
                .await?;
        }
        for (user_id, role, granted_at) in &self.roles {
            let statement = match granted_at {
                Some(granted_at) => sqlx::query(GRANT_ROLE).bind(granted_at),
                None => sqlx::query(REVOKE_ROLE),
            };
            statement
                .bind(user_id)
                .bind(role.as_str())
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
                .bind(&self.rooms.kinds)
                .execute(&mut *connection)
                .await?;
        }
        for wave in waves(&self.membership) {
            wave.execute(connection).await?;
        }
        let numbered = self.messages.insert(connection, ordinals).await?;
        self.changes.execute(connection).await?;
        if !self.reads.is_empty() {
            let ((users, rooms), seqs): ((Vec<Uuid>, Vec<Uuid>), Vec<i64>) =
                self.reads.into_iter().unzip();
            sqlx::query(MOVE_READ_POSITIONS)
                .bind(&users)
                .bind(&rooms)
                .bind(&seqs)
                .execute(&mut *connection)
                .await?;
        }
        if !self.last_seqs.is_empty() || !self.checkpoints.is_empty() {
            let (ids, seqs): (Vec<Uuid>, Vec<i64>) = self.last_seqs.into_iter().unzip();
            let message_counts = ids
                .iter()
                .map(|room| numbered.rooms.get(room).copied().unwrap_or(0))
                .collect();
            let rooms = RoomsAdvanced {
                ids,
                seqs,
                message_counts,
            };
            advance_checkpoints(connection, self.checkpoints, &rooms).await?;
        }
        Ok(numbered)
    }
}

// Every write is idempotent on its own (a retried dead letter may be applied again), and
// `ON CONFLICT DO NOTHING` without a target also absorbs a duplicate message id.
const INSERT_USERS: &str = "
INSERT INTO users (id, username, created_at, is_bot)
SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[], $4::boolean[])
ON CONFLICT DO NOTHING";

// The grant binds its time first, then, as the revocation does, the user and the role.
const GRANT_ROLE: &str = "
INSERT INTO user_roles (granted_at, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT (user_id, role) DO UPDATE SET granted_at = excluded.granted_at";

const REVOKE_ROLE: &str = "DELETE FROM user_roles WHERE user_id = $1 AND role = $2";

const INSERT_ROOMS: &str = "
INSERT INTO rooms (id, name, is_private, created_by, created_at, kind)
SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::boolean[], $4::uuid[], $5::timestamptz[],
                     $6::text[])
ON CONFLICT DO NOTHING";

// Each new message takes the next ordinal of its room, and of its author in the room (see
// migration 0084), as `KeptOrdinals` numbers it; `advance_checkpoints` records each room's newest
// as its message count. One whose id another message took is left out by the insert, its number
// skipped.
const INSERT_MESSAGES: &str = "
WITH inserted AS (
    INSERT INTO messages (room_id, seq, id, user_id, username, content, client_msg_id,
                          created_at, is_bot, reply_to, mentions, ordinal, author_ordinal)
    SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::uuid[], $4::uuid[], $5::text[], $6::text[],
                         $7::text[], $8::timestamptz[], $9::boolean[], $10::uuid[], $11::jsonb[],
                         $12::bigint[], $13::bigint[])
    ON CONFLICT DO NOTHING
    RETURNING room_id, user_id, ordinal, author_ordinal)
SELECT room_id, user_id, max(ordinal), max(author_ordinal) FROM inserted GROUP BY room_id, user_id";

// Only a batch that re-applies retried events can hold a message the tables have (any other is
// past its room's checkpoint). Each row is one probe, a subquery PostgreSQL may not turn into a
// join (`OFFSET 0`): no plan can read the whole table for it, as the hash anti join chosen while
// `messages` was small did on every batch once it held 20,000 rows. Naming room, author and seq,
// it matches every index it could use in full (see migration 0089).
const MESSAGES_ALREADY_THERE: &str = "
SELECT u.room_id, u.seq
  FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[]) AS u(room_id, user_id, seq)
 WHERE EXISTS (SELECT 1 FROM messages m
                WHERE m.room_id = u.room_id AND m.user_id = u.user_id AND m.seq = u.seq
               OFFSET 0)";

// Probes too, for the same reason: as a join, the plan kept from a start with few rooms read all
// of `rooms` for every batch. An author's newest ordinal is their last message's, read backwards
// from `messages_by_author`.
const ORDINALS: &str = "
SELECT k.room_id, k.user_id,
       coalesce((SELECT r.message_count FROM rooms r WHERE r.id = k.room_id OFFSET 0), 0),
       coalesce((SELECT a.author_ordinal FROM messages a
                  WHERE a.room_id = k.room_id AND a.user_id = k.user_id
                  ORDER BY a.seq DESC LIMIT 1), 0)
  FROM UNNEST($1::uuid[], $2::uuid[]) AS k(room_id, user_id)";

const MOVE_READ_POSITIONS: &str = "
INSERT INTO read_positions (user_id, room_id, seq)
SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[])
ON CONFLICT (user_id, room_id) DO UPDATE SET seq = greatest(read_positions.seq, excluded.seq)";
