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
    /// A bot account, authenticated by its `chatbot_` token.
    pub is_bot: bool,
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
    /// A bot token could not be looked up.
    #[error("The database is unavailable")]
    Unavailable(#[source] sqlx::Error),
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        if let AuthError::Unavailable(error) = &self {
            return ApiError::unavailable(error).into_response();
        }
        let code = match &self {
            AuthError::MissingToken => "not_authenticated",
            AuthError::BadToken(TokenError::Expired) => "token_expired",
            AuthError::BadToken(TokenError::Invalid) => "invalid_token",
            AuthError::BadToken(TokenError::Revoked) => "token_revoked",
            AuthError::WrongCredentials => "invalid_credentials",
            AuthError::Unavailable(_) => unreachable!("answered above"),
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

/// The token of the `Authorization: Bearer` header.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl CurrentUser {
    /// The holder of `token`: a person's JWT or a bot's `chatbot_` token.
    pub async fn authenticate(tokens: &Tokens, token: &str) -> Result<Self, AuthError> {
        let is_bot = Tokens::is_bot_token(token);
        let claims = if is_bot {
            tokens
                .verify_bot(token)
                .await
                .map_err(AuthError::Unavailable)??
        } else {
            tokens.verify(token)?
        };
        Ok(Self::with_claims(claims, is_bot))
    }

    pub fn with_claims(claims: Claims, is_bot: bool) -> Self {
        Self {
            id: claims.uid,
            username: claims.sub.clone(),
            claims,
            is_bot,
        }
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
        Self::authenticate(&Arc::<Tokens>::from_ref(state), token).await
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
        let user = match bearer_token(parts) {
            Some(token) => CurrentUser::authenticate(&tokens, token).await.ok(),
            None => None,
        };
        Ok(Self(user))
    }
}

/// What an operation bots may not call answers to one.
pub const BOT_REFUSED: &[ErrorCase] = &[ErrorCase::new(
    403,
    "bots_not_allowed",
    "Bot accounts cannot do this",
)];

/// Middleware for the operations that are a person's alone (accounts, sessions, passwords, bot
/// management): a request that carries a bot token (`chatbot_…`) is refused with 403 before
/// anything else is looked at.
pub async fn refuse_bots(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    if bearer_token(&parts).is_some_and(Tokens::is_bot_token) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "bots_not_allowed",
            "Bot accounts cannot do this",
        )
        .into_response();
    }
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}
