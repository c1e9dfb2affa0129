//! Bot tokens: `chatbot_` and 256 random bits, shown once, kept only as their SHA-256
//! (`bot_credentials`). A hash, not bcrypt: a bot authenticates every request, and a token of 256
//! random bits needs no slow hash to resist guessing. Each process remembers the bots it has
//! seen; a revoked bot is refused by its revocation cut-off (see [`Revocations`]) whatever this
//! copy remembers, and its row is gone from the table, so a restarted process never finds it.
//!
//! [`Revocations`]: crate::Revocations

use std::collections::HashMap;
use std::sync::RwLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Every bot token starts with this, so that it is told from a JWT at a glance (and by secret
/// scanners).
pub const BOT_TOKEN_PREFIX: &str = "chatbot_";

/// A token's SHA-256: what is stored and compared.
pub type TokenHash = [u8; 32];

/// A new bot token and its hash: 32 random bytes, base64url.
pub fn new_bot_token() -> (String, TokenHash) {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!("{BOT_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// The bot a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotKey {
    pub bot_id: Uuid,
    pub username: String,
    hash: TokenHash,
}

/// Finds the bot of a token: in this process's copy, else in `bot_credentials`.
pub struct BotKeys {
    pool: PgPool,
    known: RwLock<HashMap<TokenHash, BotKey>>,
}

const FIND: &str = "SELECT bot_id, username, token_hash FROM bot_credentials WHERE token_hash = $1";

impl BotKeys {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            known: RwLock::default(),
        }
    }

    /// The bot whose token this is, if any. The lookup is by hash, so its timing says nothing
    /// about the stored token a guess resembles; the hashes are then compared in constant time
    /// all the same.
    pub async fn find(&self, token: &str) -> Result<Option<BotKey>, sqlx::Error> {
        let hash = token_hash(token);
        let cached = self
            .known
            .read()
            .expect("bot keys poisoned")
            .get(&hash)
            .cloned();
        let key = match cached {
            Some(key) => key,
            None => {
                let row: Option<(Uuid, String, Vec<u8>)> = sqlx::query_as(FIND)
                    .bind(hash.as_slice())
                    .fetch_optional(&self.pool)
                    .await?;
                let Some((bot_id, username, stored)) = row else {
                    return Ok(None);
                };
                let Ok(stored) = TokenHash::try_from(stored.as_slice()) else {
                    return Ok(None);
                };
                let key = BotKey {
                    bot_id,
                    username,
                    hash: stored,
                };
                self.known
                    .write()
                    .expect("bot keys poisoned")
                    .insert(hash, key.clone());
                key
            }
        };
        Ok(bool::from(key.hash.ct_eq(&hash)).then_some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_has_the_prefix_and_256_random_bits_and_its_hash_is_its_sha256() {
        let (token, hash) = new_bot_token();
        let secret = token.strip_prefix(BOT_TOKEN_PREFIX).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), 32);
        assert_eq!(hash, token_hash(&token));
        assert_ne!(new_bot_token().0, token);
    }
}
