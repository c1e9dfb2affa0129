//! A message as every non-audit reader shows it (history, replies, mentions, the answer to an
//! edit): the read table's row with its reactions and how many replies it has (both kept on the
//! row by the projector: reactions are gathered only for a message that has some). A deleted
//! message is a tombstone: its id, seq, author and times, no text, no names, no reactions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// The columns of a message view, over `messages m`, for readers that select more beside them.
macro_rules! message_columns {
    () => {
        "m.id, m.seq, m.room_id, m.user_id, m.username, m.content, m.client_msg_id,
                m.created_at, m.is_bot, m.edited_at, m.deleted, m.reply_to, m.mentions,
                m.reply_count,
                CASE WHEN m.reacted
                     THEN coalesce((SELECT json_agg(json_build_object('emoji', x.emoji,
                                                                      'count', x.n,
                                                                      'usernames', x.names)
                                                    ORDER BY x.first)
                                      FROM (SELECT emoji, count(*) AS n, min(seq) AS first,
                                                   (array_agg(username ORDER BY seq))[1:10]
                                                       AS names
                                              FROM message_reactions
                                             WHERE message_id = m.id
                                             GROUP BY emoji) x), '[]')
                     ELSE '[]' END AS reactions"
    };
}
pub(crate) use message_columns;

/// The select list of a message view, over `messages m`; each reader adds its own conditions.
macro_rules! select_messages {
    () => {
        concat!(
            "SELECT ",
            $crate::message_view::message_columns!(),
            " FROM messages m "
        )
    };
}
pub(crate) use select_messages;

/// A message as history, replies and mentions serve it.
#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct MessageView {
    pub id: Uuid,
    /// The message's position in its room: ordered, stable, unique per room.
    #[schema(minimum = 1)]
    pub seq: i64,
    pub room_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    /// As stored: trimmed; the latest edit's; empty once deleted.
    pub content: String,
    #[schema(required = true)]
    pub client_msg_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Posted by a bot account.
    pub is_bot: bool,
    /// When its author last edited it.
    #[schema(required = true)]
    pub edited_at: Option<DateTime<Utc>>,
    /// Deleted by its author or the room's owner: `content` is empty, `mentions` and
    /// `reactions` too. The event log keeps what it said, for auditors.
    pub deleted: bool,
    /// Each emoji in the order it was first used.
    #[sqlx(json)]
    pub reactions: Vec<ReactionView>,
    /// The message of the same room this one answers.
    #[schema(required = true)]
    pub reply_to: Option<Uuid>,
    /// How many messages answer this one.
    #[schema(minimum = 0)]
    pub reply_count: i64,
    /// Members it names as `@username`.
    #[sqlx(json)]
    pub mentions: Vec<MentionView>,
}

/// One emoji on a message.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactionView {
    pub emoji: String,
    #[schema(minimum = 1)]
    pub count: i64,
    /// The first ten who reacted with it, in the order they did.
    #[schema(max_items = 10)]
    pub usernames: Vec<String>,
}

/// A member a message names.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MentionView {
    pub user_id: Uuid,
    pub username: String,
}

impl From<commands::PostedMessage> for MessageView {
    /// The message as readers will see it once projected: nothing has changed it yet.
    fn from(posted: commands::PostedMessage) -> Self {
        let message = posted.message;
        Self {
            id: message.message_id,
            seq: posted.seq as i64,
            room_id: posted.room_id,
            user_id: message.user_id,
            username: message.username,
            content: message.content,
            client_msg_id: message.client_msg_id,
            created_at: message.posted_at,
            is_bot: message.is_bot,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            reply_to: message.reply_to,
            reply_count: 0,
            mentions: message
                .mentions
                .into_iter()
                .map(|mention| MentionView {
                    user_id: mention.user_id,
                    username: mention.username,
                })
                .collect(),
        }
    }
}

const ONE_MESSAGE: &str = concat!(select_messages!(), "WHERE m.id = $1 AND m.room_id = $2");

/// One message of a room, as readers see it.
pub async fn read_message(
    pool: &PgPool,
    room_id: Uuid,
    message_id: Uuid,
) -> Result<Option<MessageView>, sqlx::Error> {
    sqlx::query_as(ONE_MESSAGE)
        .bind(message_id)
        .bind(room_id)
        .fetch_optional(pool)
        .await
}
