//! Keeps a process's [`Revocations`] up to date with PostgreSQL: the tables `revoked_tokens` and
//! `token_cut_offs` (written by a trigger with each revoking event) loaded at start and after every
//! reconnect, and each revocation applied as its `NOTIFY revocation` arrives, well within a
//! second of its commit on whichever node made it.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Revocations, Shared};

const CHANNEL: &str = "revocation";
/// How often what only concerns expired tokens is forgotten, in memory and in the tables.
const FORGET_EVERY: Duration = Duration::from_secs(60);
/// How long to wait before listening again after the database went away.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Loads the revocations into `revocations` and keeps them up to date in the background until
/// every handle of them is dropped. Answers once the copy is loaded, so a process serves no
/// request before it knows what was revoked.
pub async fn follow(pool: PgPool, revocations: Revocations) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(&pool).await?;
    // Listening before loading: a revocation committed in between is then not missed.
    listener.listen(CHANNEL).await?;
    load(&mut listener, &revocations).await?;
    let follower = Follower(Arc::downgrade(&revocations.shared));
    tokio::spawn(follower.run(listener));
    Ok(())
}

/// The background half: it holds the copy weakly, so it ends with the process's last handle.
struct Follower(Weak<Shared>);

impl Follower {
    /// The revocations, while someone still uses them.
    fn revocations(&self) -> Option<Revocations> {
        Some(Revocations {
            shared: self.0.upgrade()?,
        })
    }

    async fn run(self, mut listener: PgListener) {
        let mut forget = tokio::time::interval(FORGET_EVERY);
        loop {
            let step = tokio::select! {
                notification = listener.try_recv() => notification.map(|notification| {
                    notification.map(|notification| notification.payload().to_owned())
                }),
                _ = forget.tick() => {
                    let Some(revocations) = self.revocations() else { return };
                    revocations.forget_expired();
                    if let Err(error) = forget_in_tables(&mut listener, &revocations).await {
                        tracing::warn!(%error, "cannot forget expired revocations; trying later");
                    }
                    continue;
                }
            };
            let Some(revocations) = self.revocations() else {
                return;
            };
            let reload = match step {
                Ok(Some(payload)) => !apply(&revocations, &payload),
                // Reconnected: notifications may have been lost meanwhile.
                Ok(None) => true,
                Err(error) => {
                    tracing::warn!(%error, "revocation listener failed; listening again");
                    tokio::time::sleep(RETRY_AFTER).await;
                    true
                }
            };
            if reload {
                if let Err(error) = load(&mut listener, &revocations).await {
                    tracing::warn!(%error, "cannot reload the revocations; trying again");
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    }
}

/// Applies one notification: `token:<jti>:<expiry in seconds>` or `user:<id>:<cut-off in ms>`.
/// Answers `false` for one it cannot read, which the caller answers by reloading everything.
fn apply(revocations: &Revocations, payload: &str) -> bool {
    let mut parts = payload.splitn(3, ':');
    let (Some(kind), Some(id), Some(number)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(id), Ok(number)) = (Uuid::parse_str(id), number.parse::<i64>()) else {
        return false;
    };
    match kind {
        "token" => revocations.revoke_token(id, number),
        "user" => revocations.revoke_issued_before(id, number),
        _ => return false,
    }
    true
}

const TOKENS: &str = "
SELECT token_id, extract(epoch FROM expires_at)::bigint FROM revoked_tokens WHERE expires_at > now()";
const CUT_OFFS: &str = "SELECT user_id, valid_from_ms FROM token_cut_offs WHERE valid_from_ms > $1";

async fn load(listener: &mut PgListener, revocations: &Revocations) -> Result<(), sqlx::Error> {
    let oldest_live_issue = (Utc::now() - revocations.shared.lifetime).timestamp_millis();
    let tokens: Vec<(Uuid, i64)> = sqlx::query_as(TOKENS).fetch_all(&mut *listener).await?;
    let cut_offs: Vec<(Uuid, i64)> = sqlx::query_as(CUT_OFFS)
        .bind(oldest_live_issue)
        .fetch_all(&mut *listener)
        .await?;
    revocations.replace(
        tokens.into_iter().collect::<HashMap<_, _>>(),
        cut_offs.into_iter().collect(),
    );
    Ok(())
}

const FORGET_TOKENS: &str = "DELETE FROM revoked_tokens WHERE expires_at <= now()";
const FORGET_CUT_OFFS: &str = "DELETE FROM token_cut_offs WHERE valid_from_ms <= $1";

/// Every process does this; two deletes never disagree.
async fn forget_in_tables(
    listener: &mut PgListener,
    revocations: &Revocations,
) -> Result<(), sqlx::Error> {
    let oldest_live_issue = (Utc::now() - revocations.shared.lifetime).timestamp_millis();
    sqlx::query(FORGET_TOKENS).execute(&mut *listener).await?;
    sqlx::query(FORGET_CUT_OFFS)
        .bind(oldest_live_issue)
        .execute(&mut *listener)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_revokes_a_token_or_a_users_earlier_tokens_and_nonsense_asks_for_a_reload() {
        let revocations = Revocations::new(chrono::Duration::hours(1));
        let (token, user) = (Uuid::from_u128(7), Uuid::from_u128(8));
        assert!(apply(&revocations, &format!("token:{token}:4102444800")));
        assert!(apply(&revocations, &format!("user:{user}:1700000000000")));
        assert_eq!(revocations.len(), 2);
        for nonsense in [
            "",
            "token",
            "token:x:1",
            &format!("other:{user}:1"),
            &format!("user:{user}:x"),
        ] {
            assert!(!apply(&revocations, nonsense), "{nonsense:?}");
        }
    }
}
