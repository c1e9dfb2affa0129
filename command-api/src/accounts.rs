//! Registration and login.

use api_kit::{AfterProjection, ApiError, ClientAddress, ErrorBody, Json, RequestId};
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::Form;
use chrono::{DateTime, Utc};
use commands::{Attempt, Commands};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::after_projection;
use crate::error::HttpError;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// 3–32 of `A-Z a-z 0-9 _ . -`; unique ignoring case.
    #[schema(example = "alice")]
    pub username: String,
    /// 8–72 bytes.
    #[schema(example = "correct horse battery")]
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RegisteredUser {
    pub id: Uuid,
    pub username: String,
    pub created_at: DateTime<Utc>,
}

/// Register a user.
#[utoipa::path(post, path = "/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 200, description = "Registered", body = RegisteredUser, headers(
            ("x-projection-pending" = String, description = "`true`: the read tables had not caught up with this write within the wait (about 2 s), so a read right after it may not show it yet"))),
        (status = 400, description = "Username already registered", body = ErrorBody),
        (status = 422, description = "Invalid username or password", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody),
    ))]
pub(crate) async fn register(
    State(commands): State<Commands>,
    client: ClientAddress,
    RequestId(request_id): RequestId,
    Json(request): Json<RegisterRequest>,
) -> Result<AfterProjection<Json<RegisteredUser>>, HttpError> {
    let attempt = Attempt {
        username: &request.username,
        password: &request.password,
        address: client.limit_key(),
    };
    let registered = commands.register(attempt, request_id).await?;
    Ok(after_projection(registered, |user| RegisteredUser {
        id: user.user_id,
        username: user.username,
        created_at: user.registered_at,
    }))
}

/// Credentials as the OAuth2 password flow sends them (form fields), or as JSON. The extra
/// OAuth2 fields Swagger UI sends (`grant_type`, `scope`, `client_id`) are accepted and ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessToken {
    /// HS256 JWT: `sub` is the username, `uid` the user id, `exp` the expiry.
    pub access_token: String,
    #[schema(example = "bearer")]
    pub token_type: String,
}

/// Log in; answers a bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body(content(
        (LoginRequest = "application/x-www-form-urlencoded"),
        (LoginRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "Logged in", body = AccessToken),
        (status = 401, description = "Incorrect username or password", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody),
    ))]
pub(crate) async fn login(
    State(commands): State<Commands>,
    client: ClientAddress,
    Credentials(request): Credentials,
) -> Result<Json<AccessToken>, HttpError> {
    let attempt = Attempt {
        username: &request.username,
        password: &request.password,
        address: client.limit_key(),
    };
    let logged_in = commands.login(attempt).await?;
    Ok(Json(AccessToken {
        access_token: logged_in.access_token,
        token_type: "bearer".into(),
    }))
}

/// [`LoginRequest`] from a form or a JSON body, chosen by the content type.
pub(crate) struct Credentials(LoginRequest);

impl<S: Send + Sync> FromRequest<S> for Credentials {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            let Json(credentials) = Json::<LoginRequest>::from_request(request, state).await?;
            return Ok(Self(credentials));
        }
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let Form(credentials) = Form::<LoginRequest>::from_request(request, state)
                .await
                .map_err(|rejection| {
                    ApiError::new(rejection.status(), "invalid_form", rejection.body_text())
                })?;
            return Ok(Self(credentials));
        }
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the credentials as application/x-www-form-urlencoded or application/json",
        ))
    }
}
