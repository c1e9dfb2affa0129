use std::sync::Arc;

use api_kit::{ApiError, ErrorCase};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::{Claims, TokenError, Tokens};

/// The caller, proven by a valid bearer token that was not revoked. Handlers that take it answer
/// 401 without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: Uuid,
    pub username: String,
    /// The token's claims: what logging it out, or a socket watching it, needs.
    pub claims: Claims,
}

/// The caller if a valid token came with the request, else anonymous. On open endpoints an
/// invalid or expired token is ignored: the seed's client keeps sending one after it expired.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Not authenticated")]
    MissingToken,
    #[error(transparent)]
    BadToken(#[from] TokenError),
    #[error("Incorrect username or password")]
    WrongCredentials,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let code = match &self {
            AuthError::MissingToken => "not_authenticated",
            AuthError::BadToken(TokenError::Expired) => "token_expired",
            AuthError::BadToken(TokenError::Invalid) => "invalid_token",
            AuthError::BadToken(TokenError::Revoked) => "token_revoked",
            AuthError::WrongCredentials => "invalid_credentials",
        };
        ApiError::new(StatusCode::UNAUTHORIZED, code, self.to_string())
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
            .into_response()
    }
}

/// What an operation that needs a token answers without a good one, for its OpenAPI description.
pub const BEARER_ERRORS: &[ErrorCase] = &[
    ErrorCase::new(401, "not_authenticated", "Not authenticated"),
    ErrorCase::new(401, "invalid_token", "The access token is invalid"),
    ErrorCase::new(401, "token_expired", "The access token has expired"),
    ErrorCase::new(401, "token_revoked", "The access token was revoked"),
];

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl CurrentUser {
    pub fn from_token(tokens: &Tokens, token: &str) -> Result<Self, TokenError> {
        let claims = tokens.verify(token)?;
        Ok(Self {
            id: claims.uid,
            username: claims.sub.clone(),
            claims,
        })
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    Arc<Tokens>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthError> {
        let token = bearer_token(parts).ok_or(AuthError::MissingToken)?;
        Ok(Self::from_token(&Arc::<Tokens>::from_ref(state), token)?)
    }
}

impl<S> FromRequestParts<S> for MaybeUser
where
    Arc<Tokens>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let tokens = Arc::<Tokens>::from_ref(state);
        let user =
            bearer_token(parts).and_then(|token| CurrentUser::from_token(&tokens, token).ok());
        Ok(Self(user))
    }
}
