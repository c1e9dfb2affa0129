use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use std::sync::Arc;

use crate::bots::{BotKeys, BOT_TOKEN_PREFIX};
use crate::Revocations;

/// The access token's claims. `sub` is the username because the seed's web client decodes the
/// token and shows `sub` as the user's name; the id travels in `uid`. `jti` names the token, so
/// that one can be logged out; `iat_ms` orders it against a password change or a "log out
/// everywhere" to the millisecond: the time the login read the user, or that user's cut-off if
/// later. A token without either is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub uid: Uuid,
    pub jti: Uuid,
    pub iat: i64,
    pub iat_ms: i64,
    pub exp: i64,
}

/// The shortest signing key accepted: HS256 with fewer bytes than its output can be guessed
/// offline from one token.
pub const MIN_SECRET_BYTES: usize = 32;

/// The HS256 signing key. There is no default: a server without one refuses to start unless it
/// runs in dev mode, which makes a random one.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

#[derive(Debug, thiserror::Error)]
#[error("the signing key has {0} bytes; at least {MIN_SECRET_BYTES} are needed (e.g. `openssl rand -hex 32`)")]
pub struct ShortSecret(usize);

impl JwtSecret {
    /// The key, if it is long enough.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, ShortSecret> {
        let secret = secret.into();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ShortSecret(secret.len()));
        }
        Ok(Self(secret))
    }

    /// A fresh random key: tokens die with the process, which is what dev mode wants.
    pub fn random() -> Self {
        let mut bytes = vec![0; MIN_SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("The access token has expired")]
    Expired,
    #[error("The access token is invalid")]
    Invalid,
    #[error("The access token was revoked")]
    Revoked,
}

/// Issues and verifies access tokens. Verification is pinned to HS256, so `alg: none` and tokens
/// signed with another algorithm or key are refused; a token that was logged out (see
/// [`Revocations`]) is refused too.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: Duration,
    revocations: Revocations,
    /// Where bot tokens are looked up; without it, every bot token is invalid.
    bots: Option<Arc<BotKeys>>,
}

/// How long a bot's claims are taken to last: a bot token does not expire, it is revoked.
const BOT_CLAIMS_LIFETIME: Duration = Duration::days(3650);

impl Tokens {
    pub fn new(secret: &JwtSecret, lifetime: std::time::Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let lifetime = Duration::from_std(lifetime).unwrap_or(Duration::hours(12));
        Self {
            encoding: EncodingKey::from_secret(&secret.0),
            decoding: DecodingKey::from_secret(&secret.0),
            validation,
            lifetime,
            revocations: Revocations::new(lifetime),
            bots: None,
        }
    }

    /// Accepts bot tokens too, looked up in `bots`.
    pub fn with_bots(mut self, bots: BotKeys) -> Self {
        self.bots = Some(Arc::new(bots));
        self
    }

    /// Whether `token` is meant as a bot's (valid or not).
    pub fn is_bot_token(token: &str) -> bool {
        token.starts_with(BOT_TOKEN_PREFIX)
    }

    /// The claims of a bot token: the bot's name and id, issued at the epoch (so that its
    /// revocation, a cut-off, refuses it) and valid for years (it is revoked, never expires).
    /// The outer error is the store's, when it cannot tell.
    pub async fn verify_bot(&self, token: &str) -> Result<Result<Claims, TokenError>, sqlx::Error> {
        let Some(bots) = &self.bots else {
            return Ok(Err(TokenError::Invalid));
        };
        let Some(key) = bots.find(token).await? else {
            return Ok(Err(TokenError::Invalid));
        };
        let now = Utc::now();
        let claims = Claims {
            sub: key.username,
            uid: key.bot_id,
            jti: key.bot_id,
            iat: 0,
            iat_ms: 0,
            exp: (now + BOT_CLAIMS_LIFETIME).timestamp(),
        };
        Ok(self.still_valid(&claims).map(|()| claims))
    }

    /// What this process knows to be logged out.
    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    /// How long a token lives: what revocations must remember at most.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A token for the user stamped `iat_ms`: the caller's reading of the user (see
    /// [`Claims`]), which revocations compare with their cut-offs.
    pub fn issue(&self, user_id: Uuid, username: &str, iat_ms: i64) -> String {
        let now = Utc::now();
        let claims = Claims {
            sub: username.to_owned(),
            uid: user_id,
            jti: Uuid::new_v4(),
            iat: now.timestamp(),
            iat_ms,
            exp: (now + self.lifetime).timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        self.still_valid(&claims)?;
        Ok(claims)
    }

    /// Whether claims verified earlier (a socket's) still hold: not expired, not revoked since.
    pub fn still_valid(&self, claims: &Claims) -> Result<(), TokenError> {
        if claims.exp <= Utc::now().timestamp() {
            return Err(TokenError::Expired);
        }
        if self.revocations.is_revoked(claims) {
            return Err(TokenError::Revoked);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &str) -> Tokens {
        let secret = JwtSecret::new(format!("{secret:<32}")).unwrap();
        Tokens::new(&secret, std::time::Duration::from_secs(60))
    }

    fn signed(claims: &serde_json::Value) -> String {
        let key = EncodingKey::from_secret(format!("{:<32}", "k").as_bytes());
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).unwrap()
    }

    #[test]
    fn an_issued_token_carries_the_username_as_sub_and_the_id_as_uid() {
        let id = Uuid::from_u128(42);
        let claims = tokens("k")
            .verify(&tokens("k").issue(id, "Alice", 7))
            .unwrap();
        assert_eq!(claims.sub, "Alice");
        assert_eq!(claims.uid, id);
        assert_eq!(claims.iat_ms, 7);
    }

    #[test]
    fn every_token_has_its_own_id() {
        let tokens = tokens("k");
        let first = tokens.verify(&tokens.issue(Uuid::nil(), "a", 0)).unwrap();
        let second = tokens.verify(&tokens.issue(Uuid::nil(), "a", 0)).unwrap();
        assert_ne!(first.jti, second.jti);
    }

    #[test]
    fn a_token_stamped_at_the_users_cut_off_counts_and_one_before_it_does_not() {
        let tokens = tokens("k");
        let cut_off = Utc::now().timestamp_millis() + 5;
        tokens
            .revocations()
            .revoke_issued_before(Uuid::nil(), cut_off);
        assert!(tokens
            .verify(&tokens.issue(Uuid::nil(), "a", cut_off))
            .is_ok());
        let before = tokens.issue(Uuid::nil(), "a", cut_off - 1);
        assert!(matches!(tokens.verify(&before), Err(TokenError::Revoked)));
    }

    #[test]
    fn a_secret_shorter_than_32_bytes_is_refused() {
        assert!(JwtSecret::new("secret").is_err());
        assert!(JwtSecret::new("s".repeat(31)).is_err());
        assert!(JwtSecret::new("s".repeat(32)).is_ok());
    }

    #[test]
    fn a_token_signed_with_another_key_is_invalid() {
        let token = tokens("other").issue(Uuid::nil(), "mallory", 0);
        assert!(matches!(
            tokens("k").verify(&token),
            Err(TokenError::Invalid)
        ));
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let past = Utc::now().timestamp() - 10;
        let token = signed(&serde_json::json!({
            "sub": "alice", "uid": Uuid::nil(), "jti": Uuid::nil(),
            "iat": past - 60, "iat_ms": (past - 60) * 1000, "exp": past,
        }));
        assert!(matches!(
            tokens("k").verify(&token),
            Err(TokenError::Expired)
        ));
    }

    #[test]
    fn a_token_without_an_id_or_a_millisecond_issue_time_is_refused() {
        let exp = Utc::now().timestamp() + 60;
        let without_jti = signed(&serde_json::json!({
            "sub": "alice", "uid": Uuid::nil(), "iat": 0, "iat_ms": 0, "exp": exp,
        }));
        let without_iat_ms = signed(&serde_json::json!({
            "sub": "alice", "uid": Uuid::nil(), "jti": Uuid::nil(), "iat": 0, "exp": exp,
        }));
        for token in [without_jti, without_iat_ms] {
            assert!(matches!(
                tokens("k").verify(&token),
                Err(TokenError::Invalid)
            ));
        }
    }

    #[test]
    fn a_revoked_token_is_refused_as_revoked() {
        let tokens = tokens("k");
        let token = tokens.issue(Uuid::nil(), "alice", 0);
        let claims = tokens.verify(&token).unwrap();
        tokens.revocations().revoke_token(claims.jti, claims.exp);
        assert!(matches!(tokens.verify(&token), Err(TokenError::Revoked)));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        // {"alg":"none","typ":"JWT"} . {"sub":"alice","uid":"0…0","exp":9999999999} . (no signature)
        let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsInVpZCI6IjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCIsImV4cCI6OTk5OTk5OTk5OX0.";
        assert!(matches!(
            tokens("k").verify(token),
            Err(TokenError::Invalid)
        ));
    }
}
