//! Which tokens no longer count before they expire: each token logged out by its id (`jti`), and
//! per user a cut-off before which every token was revoked (a password change, "log out
//! everywhere"). The record is kept in PostgreSQL (written with the revoking event, in its
//! transaction); every process holds a copy in memory, loaded at start and kept up to date by
//! `NOTIFY revocation` ([`follow`]). Nothing is remembered past the expiry of the tokens it
//! concerns, so the copy is bounded by the tokens one lifetime can issue.

mod follow;

pub use follow::follow;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{Duration, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use crate::Claims;

/// This process's copy of the revocations; cheap to clone. Sockets watch [`changes`](Self::changes)
/// to close when their token is revoked.
#[derive(Clone)]
pub struct Revocations {
    shared: Arc<Shared>,
}

struct Shared {
    known: RwLock<Known>,
    changed: watch::Sender<u64>,
    /// Tokens live this long: nothing about older ones needs remembering.
    lifetime: Duration,
}

#[derive(Default)]
struct Known {
    /// Logged-out token ids, with their expiry (seconds since the epoch).
    tokens: HashMap<Uuid, i64>,
    /// Per user: tokens issued (`iat_ms`) before this are revoked.
    cut_offs: HashMap<Uuid, i64>,
}

impl Revocations {
    pub(crate) fn new(lifetime: Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                known: RwLock::default(),
                changed: watch::channel(0).0,
                lifetime,
            }),
        }
    }

    pub fn is_revoked(&self, claims: &Claims) -> bool {
        let known = self.shared.known.read().expect("revocations poisoned");
        known.tokens.contains_key(&claims.jti)
            || known
                .cut_offs
                .get(&claims.uid)
                .is_some_and(|&cut_off| claims.iat_ms < cut_off)
    }

    /// Ticks whenever something was revoked: whoever holds verified claims checks them again.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.shared.changed.subscribe()
    }

    /// Token `token_id`, which expires at `expires_at` (seconds), no longer counts.
    pub fn revoke_token(&self, token_id: Uuid, expires_at: i64) {
        self.shared
            .known
            .write()
            .expect("revocations poisoned")
            .tokens
            .insert(token_id, expires_at);
        self.shared.changed.send_modify(|count| *count += 1);
    }

    /// No token of `user_id` issued before `valid_from_ms` counts any more.
    pub fn revoke_issued_before(&self, user_id: Uuid, valid_from_ms: i64) {
        let mut known = self.shared.known.write().expect("revocations poisoned");
        let cut_off = known.cut_offs.entry(user_id).or_default();
        *cut_off = (*cut_off).max(valid_from_ms);
        drop(known);
        self.shared.changed.send_modify(|count| *count += 1);
    }

    /// Replaces the copy with what the database holds (at start, and after a listener reconnect,
    /// when notifications may have been lost).
    fn replace(&self, tokens: HashMap<Uuid, i64>, cut_offs: HashMap<Uuid, i64>) {
        *self.shared.known.write().expect("revocations poisoned") = Known { tokens, cut_offs };
        self.shared.changed.send_modify(|count| *count += 1);
    }

    /// Forgets what only concerns tokens that have expired anyway.
    fn forget_expired(&self) {
        let now = Utc::now();
        let oldest_live_issue = (now - self.shared.lifetime).timestamp_millis();
        let mut known = self.shared.known.write().expect("revocations poisoned");
        known
            .tokens
            .retain(|_, expires_at| *expires_at > now.timestamp());
        known
            .cut_offs
            .retain(|_, cut_off| *cut_off > oldest_live_issue);
    }

    /// How many revocations this copy holds.
    pub fn len(&self) -> usize {
        let known = self.shared.known.read().expect("revocations poisoned");
        known.tokens.len() + known.cut_offs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(user: u128, iat_ms: i64) -> Claims {
        Claims {
            sub: "alice".into(),
            uid: Uuid::from_u128(user),
            jti: Uuid::new_v4(),
            iat: iat_ms / 1000,
            iat_ms,
            exp: Utc::now().timestamp() + 60,
        }
    }

    #[test]
    fn a_cut_off_revokes_what_was_issued_before_it_to_the_millisecond_and_nothing_after() {
        let revocations = Revocations::new(Duration::hours(1));
        let now = Utc::now().timestamp_millis();
        revocations.revoke_issued_before(Uuid::from_u128(1), now);
        assert!(revocations.is_revoked(&claims(1, now - 1)));
        assert!(!revocations.is_revoked(&claims(1, now)));
        assert!(
            !revocations.is_revoked(&claims(2, now - 1)),
            "another user's tokens"
        );
        revocations.revoke_issued_before(Uuid::from_u128(1), now - 100);
        assert!(
            revocations.is_revoked(&claims(1, now - 1)),
            "a cut-off never moves back"
        );
    }

    #[test]
    fn one_logged_out_token_takes_no_other_with_it() {
        let revocations = Revocations::new(Duration::hours(1));
        let now = Utc::now().timestamp_millis();
        let (gone, kept) = (claims(1, now), claims(1, now));
        let changes = revocations.changes();
        revocations.revoke_token(gone.jti, gone.exp);
        assert!(changes.has_changed().unwrap());
        assert!(revocations.is_revoked(&gone));
        assert!(!revocations.is_revoked(&kept));
    }

    #[test]
    fn what_concerns_only_expired_tokens_is_forgotten() {
        let revocations = Revocations::new(Duration::seconds(60));
        let now = Utc::now();
        revocations.revoke_token(Uuid::from_u128(1), now.timestamp() - 1);
        revocations.revoke_token(Uuid::from_u128(2), now.timestamp() + 60);
        let long_ago = (now - Duration::seconds(61)).timestamp_millis();
        revocations.revoke_issued_before(Uuid::from_u128(3), long_ago);
        revocations.revoke_issued_before(Uuid::from_u128(4), now.timestamp_millis());
        revocations.forget_expired();
        assert_eq!(revocations.len(), 2);
    }
}
