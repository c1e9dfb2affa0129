use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The access token's claims. `sub` is the username because the seed's web client decodes the
/// token and shows `sub` as the user's name; the id travels in `uid`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub uid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// The HS256 signing key. There is no default: a server without one refuses to start unless it
/// runs in dev mode, which makes a random one.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }

    /// A fresh random key: tokens die with the process, which is what dev mode wants.
    pub fn random() -> Self {
        let mut bytes = vec![0; 32];
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
}

/// Issues and verifies access tokens. Verification is pinned to HS256, so `alg: none` and tokens
/// signed with another algorithm or key are refused.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: Duration,
}

impl Tokens {
    pub fn new(secret: &JwtSecret, lifetime: std::time::Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(&secret.0),
            decoding: DecodingKey::from_secret(&secret.0),
            validation,
            lifetime: Duration::from_std(lifetime).unwrap_or(Duration::hours(12)),
        }
    }

    pub fn issue(&self, user_id: Uuid, username: &str) -> String {
        let now = Utc::now();
        let claims = Claims {
            sub: username.to_owned(),
            uid: user_id,
            iat: now.timestamp(),
            exp: (now + self.lifetime).timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &str) -> Tokens {
        Tokens::new(&JwtSecret::new(secret), std::time::Duration::from_secs(60))
    }

    #[test]
    fn an_issued_token_carries_the_username_as_sub_and_the_id_as_uid() {
        let id = Uuid::from_u128(42);
        let claims = tokens("k").verify(&tokens("k").issue(id, "Alice")).unwrap();
        assert_eq!(claims.sub, "Alice");
        assert_eq!(claims.uid, id);
    }

    #[test]
    fn a_token_signed_with_another_key_is_invalid() {
        let token = tokens("other").issue(Uuid::nil(), "mallory");
        assert!(matches!(
            tokens("k").verify(&token),
            Err(TokenError::Invalid)
        ));
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let past = Utc::now().timestamp() - 10;
        let claims = Claims {
            sub: "alice".into(),
            uid: Uuid::nil(),
            iat: past - 60,
            exp: past,
        };
        let key = EncodingKey::from_secret(b"k");
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
        assert!(matches!(
            tokens("k").verify(&token),
            Err(TokenError::Expired)
        ));
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
