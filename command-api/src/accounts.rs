//! Registration and login.

use api_kit::{
    AfterProjection, ApiError, ClientAddress, ErrorCase, Json, RequestId, JSON_BODY_ERRORS,
    RATE_LIMITED, STORE_ERRORS,
};
use auth::BOT_REFUSED;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::Form;
use chrono::{DateTime, Utc};
use commands::{Attempt, Commands};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::after_projection;
use crate::error::HttpError;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery"}))]
pub struct RegisterRequest {
    /// 3–32 of `A-Z a-z 0-9 _ . -` (whitespace around them is trimmed); unique ignoring case.
    #[schema(schema_with = username_schema)]
    pub username: String,
    /// 8–72 characters, never trimmed.
    #[schema(min_length = 8, max_length = 72)]
    pub password: String,
}

fn username_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(domain::values::patterns::username()))
        .build()
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisteredUser {
    pub id: Uuid,
    /// As typed, without the whitespace around it.
    pub username: String,
    pub created_at: DateTime<Utc>,
}

api_kit::error_responses!(
    /// What registering answers instead of success.
    RegisterErrors: [STORE_ERRORS, JSON_BODY_ERRORS, BOT_REFUSED], [
        ErrorCase::new(400, "username_taken", "Username already registered"),
        ErrorCase::new(422, "invalid_input", "username must be 3 to 32 characters long"),
        RATE_LIMITED,
    ]
);

/// Register a user.
#[utoipa::path(post, path = "/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 200, description = "Registered", body = RegisteredUser,
            headers(("x-projection-pending" = String, description = "`true`: the read tables had not caught up with this write within the wait (about 2 s), so a read right after it may not show it yet")),
            links(
                ("LogIn" = (operation_id = "login", description = "Log in as the user just registered",
                    request_body = json!({"username": "$request.body#/username", "password": "$request.body#/password"}))),
                ("AuditUser" = (operation_id = "user_events", description = "The events the user caused (auditors only)",
                    parameters(("user_id" = "$response.body#/id")))),
            )),
        RegisterErrors,
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
/// OAuth2 fields Swagger UI sends (`grant_type`, `scope`, `client_id`) are accepted and ignored,
/// and so is any other field.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// Any text: a name that is not registered is refused like a wrong password.
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessToken {
    /// HS256 JWT: `sub` is the username, `uid` the user id, `jti` the token's id, `iat_ms` its
    /// issue stamp in milliseconds, `exp` the expiry.
    #[schema(pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]
    pub access_token: String,
    pub token_type: TokenType,
}

/// How to present the token: `Authorization: Bearer <access_token>`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Bearer,
}

api_kit::error_responses!(
    /// What logging in answers instead of success.
    LoginErrors: [STORE_ERRORS, BOT_REFUSED], [
        ErrorCase::new(401, "invalid_credentials", "Incorrect username or password"),
        ErrorCase::new(413, "payload_too_large", "The request body is larger than 64 KiB"),
        ErrorCase::new(415, "unsupported_media_type",
            "Send the credentials as application/x-www-form-urlencoded or application/json"),
        ErrorCase::new(422, "invalid_json", "Failed to deserialize the JSON body into the target type: missing field `password`"),
        ErrorCase::new(422, "invalid_form", "Failed to deserialize form body: missing field `password`"),
        RATE_LIMITED,
    ]
);

/// Log in; answers a bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body(content(
        (LoginRequest = "application/x-www-form-urlencoded"),
        (LoginRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "Logged in", body = AccessToken,
            links(
                ("OpenSocket" = (operation_id = "connect", description = "Open a live socket on a room with this token",
                    parameters(("token" = "$response.body#/access_token")))),
            )),
        LoginErrors,
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
        token_type: TokenType::Bearer,
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
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "The request body is larger than 64 KiB",
                    ),
                    _ => ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_form",
                        rejection.body_text(),
                    ),
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
