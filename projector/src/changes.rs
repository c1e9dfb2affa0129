//! What a batch writes for messages after they were posted: edits, deletions, reactions, reply
//! counts, and who each message names. Changes are rare next to posts, so each is its own
//! statement, in event order (a reaction added and taken back in one batch must end taken back).

use bus::EventEnvelope;
use chrono::{DateTime, Utc};
use domain::{Mention, RoomEvent};
use sqlx::PgConnection;
use uuid::Uuid;

/// The changes of one batch.
#[derive(Default)]
pub(crate) struct MessageChanges {
    /// Who the batch's posted messages name: (user, message, room, posted at).
    mentioned: Vec<(Uuid, Uuid, Uuid, DateTime<Utc>)>,
    /// The messages the batch's posted messages answer.
    replied_to: Vec<Uuid>,
    changes: Vec<Change>,
}

/// Whether applying `envelope` finds a message's row by its id: an edit, a deletion, a reaction,
/// or a reply, whose count goes on the message it answers.
pub(crate) fn finds_message_by_id(envelope: &EventEnvelope) -> bool {
    match envelope.event_type.as_str() {
        "MessageEdited" | "MessageDeleted" | "ReactionAdded" | "ReactionRemoved" => true,
        "MessagePosted" => !envelope.payload["MessagePosted"]["reply_to"].is_null(),
        _ => false,
    }
}

enum Change {
    Edited {
        message_id: Uuid,
        content: String,
        mentions: Vec<Mention>,
        edited_at: DateTime<Utc>,
    },
    Deleted {
        message_id: Uuid,
    },
    ReactionAdded {
        message_id: Uuid,
        emoji: String,
        user_id: Uuid,
        username: String,
        seq: i64,
    },
    ReactionRemoved {
        message_id: Uuid,
        emoji: String,
        user_id: Uuid,
    },
}

impl MessageChanges {
    /// The members a posted message names.
    pub(crate) fn mentioned(
        &mut self,
        room_id: Uuid,
        message_id: Uuid,
        posted_at: DateTime<Utc>,
        mentions: &[Mention],
    ) {
        self.mentioned.extend(
            mentions
                .iter()
                .map(|m| (m.user_id, message_id, room_id, posted_at)),
        );
    }

    /// A posted message answers `message_id`.
    pub(crate) fn replied_to(&mut self, message_id: Uuid) {
        self.replied_to.push(message_id);
    }

    /// A room event at `seq` that changes a posted message; the others change nothing here.
    pub(crate) fn stage(&mut self, seq: i64, event: RoomEvent) {
        let change = match event {
            RoomEvent::MessageEdited {
                message_id,
                content,
                mentions,
                edited_at,
                ..
            } => Change::Edited {
                message_id,
                content,
                mentions,
                edited_at,
            },
            RoomEvent::MessageDeleted { message_id, .. } => Change::Deleted { message_id },
            RoomEvent::ReactionAdded {
                message_id,
                emoji,
                user_id,
                username,
                ..
            } => Change::ReactionAdded {
                message_id,
                emoji,
                user_id,
                username,
                seq,
            },
            RoomEvent::ReactionRemoved {
                message_id,
                emoji,
                user_id,
                ..
            } => Change::ReactionRemoved {
                message_id,
                emoji,
                user_id,
            },
            RoomEvent::RoomCreated { .. }
            | RoomEvent::MemberJoined { .. }
            | RoomEvent::MemberLeft { .. }
            | RoomEvent::MemberRoleChanged { .. }
            | RoomEvent::MessagePosted(_) => return,
        };
        self.changes.push(change);
    }

    /// Writes the batch's changes, after its messages are in.
    pub(crate) async fn execute(&self, connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        if !self.mentioned.is_empty() {
            let mut users = Vec::new();
            let mut messages = Vec::new();
            let mut rooms = Vec::new();
            let mut times = Vec::new();
            for (user, message, room, at) in &self.mentioned {
                users.push(*user);
                messages.push(*message);
                rooms.push(*room);
                times.push(*at);
            }
            sqlx::query(INSERT_MENTIONS)
                .bind(&users)
                .bind(&messages)
                .bind(&rooms)
                .bind(&times)
                .execute(&mut *connection)
                .await?;
        }
        if !self.replied_to.is_empty() {
            sqlx::query(COUNT_REPLIES)
                .bind(&self.replied_to)
                .execute(&mut *connection)
                .await?;
        }
        for change in &self.changes {
            change.execute(connection).await?;
        }
        Ok(())
    }
}

impl Change {
    async fn execute(&self, connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        match self {
            Change::Edited {
                message_id,
                content,
                mentions,
                edited_at,
            } => {
                let mentioned: Vec<Uuid> = mentions.iter().map(|m| m.user_id).collect();
                sqlx::query(EDIT)
                    .bind(message_id)
                    .bind(content)
                    .bind(edited_at)
                    .bind(serde_json::json!(mentions))
                    .execute(&mut *connection)
                    .await?;
                sqlx::query(FORGET_MENTIONS)
                    .bind(message_id)
                    .bind(&mentioned)
                    .execute(&mut *connection)
                    .await?;
                sqlx::query(MENTION_AFTER_EDIT)
                    .bind(message_id)
                    .bind(&mentioned)
                    .execute(&mut *connection)
                    .await?;
            }
            Change::Deleted { message_id } => {
                sqlx::query(DELETE)
                    .bind(message_id)
                    .execute(&mut *connection)
                    .await?;
                sqlx::query(DROP_REACTIONS)
                    .bind(message_id)
                    .execute(&mut *connection)
                    .await?;
            }
            Change::ReactionAdded {
                message_id,
                emoji,
                user_id,
                username,
                seq,
            } => {
                sqlx::query(ADD_REACTION)
                    .bind(message_id)
                    .bind(emoji)
                    .bind(user_id)
                    .bind(username)
                    .bind(seq)
                    .execute(&mut *connection)
                    .await?;
                sqlx::query(MARK_REACTED)
                    .bind(message_id)
                    .execute(&mut *connection)
                    .await?;
            }
            Change::ReactionRemoved {
                message_id,
                emoji,
                user_id,
            } => {
                sqlx::query(REMOVE_REACTION)
                    .bind(message_id)
                    .bind(emoji)
                    .bind(user_id)
                    .execute(&mut *connection)
                    .await?;
                sqlx::query(MARK_REACTED)
                    .bind(message_id)
                    .execute(&mut *connection)
                    .await?;
            }
        }
        Ok(())
    }
}

// Each statement is idempotent on its own, as every write of the projection is; a deleted
// message takes no edit and no reaction, whatever order a retried dead letter comes in.
const INSERT_MENTIONS: &str = "
INSERT INTO message_mentions (user_id, message_id, room_id, created_at)
SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[])
ON CONFLICT DO NOTHING";

const EDIT: &str = "
UPDATE messages SET content = $2, edited_at = $3, mentions = $4
 WHERE id = $1 AND NOT deleted";

const FORGET_MENTIONS: &str = "
DELETE FROM message_mentions WHERE message_id = $1 AND user_id <> ALL ($2::uuid[])";

const MENTION_AFTER_EDIT: &str = "
INSERT INTO message_mentions (user_id, message_id, room_id, created_at)
SELECT u.user_id, m.id, m.room_id, m.created_at
  FROM messages m, UNNEST($2::uuid[]) AS u(user_id)
 WHERE m.id = $1 AND NOT m.deleted
ON CONFLICT DO NOTHING";

// The tombstone keeps its id, seq, author and times; its text, the names in it and its
// reactions go.
const DELETE: &str = "
UPDATE messages SET deleted = true, content = '', mentions = '[]', reacted = false WHERE id = $1";

const DROP_REACTIONS: &str = "DELETE FROM message_reactions WHERE message_id = $1";

const ADD_REACTION: &str = "
INSERT INTO message_reactions (message_id, emoji, user_id, username, seq)
SELECT $1, $2, $3, $4, $5
 WHERE EXISTS (SELECT 1 FROM messages WHERE id = $1 AND NOT deleted)
ON CONFLICT DO NOTHING";

const REMOVE_REACTION: &str = "
DELETE FROM message_reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3";

// Counted, not added to, so a batch applied twice counts each reply once; a tombstone still
// answers, as it is still listed among the replies.
const COUNT_REPLIES: &str = "
UPDATE messages p SET reply_count = (SELECT count(*) FROM messages r WHERE r.reply_to = p.id)
 WHERE p.id = ANY ($1::uuid[])";

// Looked at again after each reaction added or taken back: the first adds the flag, the last
// taken back clears it.
const MARK_REACTED: &str = "
UPDATE messages m SET reacted = x.reacted
  FROM (SELECT EXISTS (SELECT 1 FROM message_reactions WHERE message_id = $1) AS reacted) x
 WHERE m.id = $1 AND m.reacted <> x.reacted";
