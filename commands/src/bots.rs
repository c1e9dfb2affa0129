//! Bot accounts: created and revoked by the user who owns them. A bot is a user (`<name>.bot`)
//! whose token, `chatbot_` and 256 random bits, is shown once and kept only as its SHA-256 in
//! `bot_credentials`, outside the event log.

use auth::bots::new_bot_token;
use chrono::{DateTime, Utc};
use cqrs_es::persist::PersistenceError;
use cqrs_es::Aggregate;
use domain::values::{InvalidValue, Username};
use domain::{User, UserCommand, UserEvent};
use eventstore::CommandMetadata;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::{CommandError, Commands};

/// The suffix every bot's username has.
pub const BOT_SUFFIX: &str = ".bot";

/// A bot just created, with the only copy of its token there will ever be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedBot {
    pub id: Uuid,
    pub username: String,
    pub token: String,
}

/// One of a user's bots, as listed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OwnedBot {
    pub id: Uuid,
    pub username: String,
    pub created_at: DateTime<Utc>,
}

const COUNT_OWNED: &str = "SELECT count(*) FROM bot_credentials WHERE owner_id = $1";

/// The owner's turn to create a bot, until the transaction ends. Class 7280: the writers' lock
/// of `claim_positions()` is 7279.
const TAKE_OWNERS_TURN: &str = "SELECT pg_advisory_xact_lock(7280, hashtext($1))";

const INSERT_CREDENTIAL: &str = "
INSERT INTO bot_credentials (bot_id, owner_id, username, token_hash, created_at)
VALUES ($1, $2, $3, $4, $5)";

const LIST_OWNED: &str = "
SELECT bot_id AS id, username, created_at FROM bot_credentials
 WHERE owner_id = $1 ORDER BY created_at, bot_id";

impl Commands {
    /// Creates the bot `<name>.bot` for `owner`, unless the owner already has as many as the
    /// cap. An owner's creations take turns, in every process: each holds a lock of the owner's
    /// in a transaction from the count to its bot's credential, so two at once cannot both pass
    /// the cap. The transaction, on a connection of its own, ends with the request, cancelled or
    /// not, and the lock with it. Within a process creations go one at a time, so at most one
    /// such connection waits for a turn.
    pub async fn create_bot(
        &self,
        owner: Uuid,
        name: &str,
        request_id: Option<String>,
    ) -> Result<CreatedBot, CommandError> {
        let username = bot_username(name)?;
        let in_process = self.bot_creations.lock().await;
        // A connection of its own, outside the pool: the commit below takes one from the pool,
        // which may have no other to give (its smallest size is two, one of them a listener).
        let mut connection = PgConnection::connect_with(&self.pool.connect_options())
            .await
            .map_err(unreachable_store)?;
        let mut turn = connection.begin().await.map_err(unreachable_store)?;
        sqlx::query(TAKE_OWNERS_TURN)
            .bind(owner.to_string())
            .execute(&mut *turn)
            .await
            .map_err(unreachable_store)?;
        let owned: i64 = sqlx::query_scalar(COUNT_OWNED)
            .bind(owner)
            .fetch_one(&mut *turn)
            .await
            .map_err(unreachable_store)?;
        if owned >= i64::from(self.bots_per_user) {
            return Err(CommandError::TooManyBots(self.bots_per_user));
        }
        let bot_id = username.user_id();
        let command = UserCommand::RegisterBot {
            username,
            owner_id: owner,
            at: eventstore::now(),
        };
        let metadata = CommandMetadata::by(owner, request_id);
        let events = self
            .users
            .execute(&bot_id.to_string(), command, &metadata)
            .await?;
        let UserEvent::BotRegistered {
            username,
            registered_at,
            ..
        } = &events[0].payload
        else {
            unreachable!("a bot's creation that succeeded recorded BotRegistered");
        };
        // After the event: a row exists only for a bot that exists. Should this insert fail,
        // the bot has no token, and its owner revokes it and creates another.
        let (token, hash) = new_bot_token();
        sqlx::query(INSERT_CREDENTIAL)
            .bind(bot_id)
            .bind(owner)
            .bind(username)
            .bind(hash.as_slice())
            .bind(registered_at)
            .execute(&mut *turn)
            .await
            .map_err(unreachable_store)?;
        turn.commit().await.map_err(unreachable_store)?;
        // The turn is over: the wait for the projection below holds neither the connection nor
        // the next creation.
        drop(connection);
        drop(in_process);
        let created = CreatedBot {
            id: bot_id,
            username: username.clone(),
            token,
        };
        // Like a registration: the bot's first read (`GET /users/me`) finds it.
        let sequence = events.last().map_or(0, |event| event.sequence);
        let projected = self
            .after_projection(User::TYPE, &bot_id.to_string(), sequence, created)
            .await;
        Ok(projected.outcome)
    }

    /// The owner's bots that were not revoked, oldest first.
    pub async fn owned_bots(&self, owner: Uuid) -> Result<Vec<OwnedBot>, CommandError> {
        sqlx::query_as(LIST_OWNED)
            .bind(owner)
            .fetch_all(&self.pool)
            .await
            .map_err(unreachable_store)
    }

    /// Revokes the owner's bot `bot_id`: its token stops working on every server within a
    /// second, and its sockets and feed streams close. Anyone else's bot, or none, is
    /// [`UserError::BotNotFound`](domain::UserError::BotNotFound).
    pub async fn revoke_bot(
        &self,
        owner: Uuid,
        bot_id: Uuid,
        request_id: Option<String>,
    ) -> Result<(), CommandError> {
        let command = UserCommand::RevokeBot {
            owner_id: owner,
            at: eventstore::now(),
        };
        let metadata = CommandMetadata::by(owner, request_id);
        match self
            .users
            .execute(&bot_id.to_string(), command, &metadata)
            .await
        {
            Ok(events) => {
                self.refuse_at_once(bot_id, &events);
                Ok(())
            }
            Err(error) => match CommandError::from(error) {
                CommandError::User(domain::UserError::NotRegistered) => {
                    Err(CommandError::User(domain::UserError::BotNotFound))
                }
                other => Err(other),
            },
        }
    }
}

/// `<name>.bot`, which must make a valid username (so `name` is at most 28 characters).
fn bot_username(name: &str) -> Result<Username, InvalidValue> {
    if name.is_empty() || name.ends_with(BOT_SUFFIX) {
        return Err(InvalidValue(
            "name must be 1–28 of A-Z a-z 0-9 _ . - and not end in .bot".into(),
        ));
    }
    Username::parse(&format!("{name}{BOT_SUFFIX}")).map_err(|_| {
        InvalidValue("name must be 1–28 of A-Z a-z 0-9 _ . - and not end in .bot".into())
    })
}

fn unreachable_store(error: sqlx::Error) -> CommandError {
    CommandError::StoreUnreachable(PersistenceError::ConnectionError(Box::new(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bot_is_named_after_its_name_and_a_bad_name_is_refused() {
        assert_eq!(bot_username("helper").unwrap().to_string(), "helper.bot");
        assert_eq!(bot_username("a").unwrap().to_string(), "a.bot");
        assert!(bot_username(&"n".repeat(28)).is_ok());
        for bad in ["", "x.bot", "sp ace", "nul\0", &"n".repeat(29)] {
            assert!(bot_username(bad).is_err(), "{bad:?}");
        }
    }
}
