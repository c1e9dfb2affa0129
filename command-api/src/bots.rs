//! Bot accounts, managed by the people who own them.

use api_kit::{ErrorCase, Json, Path, RequestId, JSON_BODY_ERRORS, PATH_ERRORS, STORE_ERRORS};
use auth::{CurrentUser, BEARER_ERRORS, BOT_REFUSED};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use commands::Commands;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::HttpError;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "helper"}))]
pub struct CreateBotRequest {
    /// 1–28 of `A-Z a-z 0-9 _ . -`, not ending in `.bot`: the bot's username is `<name>.bot`.
    #[schema(min_length = 1, max_length = 28, pattern = r"^[A-Za-z0-9_.\-]{1,28}$")]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "6f1c0c55-4b53-5d2e-9a43-4f9d3f7a1b2c", "username": "helper.bot", "token": "chatbot_q0ZsYjN0b3Bfc2VjcmV0X3Rva2VuX2V4YW1wbGVfNDNj"}))]
pub struct CreatedBot {
    pub id: Uuid,
    /// `<name>.bot`.
    pub username: String,
    /// `chatbot_` and 256 random bits: shown this once, never again. Send it as
    /// `Authorization: Bearer <token>`.
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BotView {
    pub id: Uuid,
    pub username: String,
    pub created_at: DateTime<Utc>,
}

api_kit::error_responses!(
    /// What creating a bot answers instead of success.
    CreateBotErrors: [STORE_ERRORS, JSON_BODY_ERRORS, BEARER_ERRORS, BOT_REFUSED], [
        ErrorCase::new(400, "username_taken", "Username already registered"),
        ErrorCase::new(400, "too_many_bots", "You have 10 bots already: revoke one first"),
        ErrorCase::new(422, "invalid_input", "name must be 1–28 of A-Z a-z 0-9 _ . - and not end in .bot"),
    ]
);

/// Create a bot account `<name>.bot`, owned by the caller. The answer holds its token, shown
/// once; the server keeps only its SHA-256. A bot joins rooms, posts and reads like a person, and
/// follows `GET /events`, under limits of its own; it cannot manage bots, accounts or passwords.
#[utoipa::path(post, path = "/bots", tag = "bots",
    request_body = CreateBotRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the token is in this answer only", body = CreatedBot),
        CreateBotErrors,
    ))]
pub(crate) async fn create_bot(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Json(request): Json<CreateBotRequest>,
) -> Result<(StatusCode, Json<CreatedBot>), HttpError> {
    let created = commands
        .create_bot(user.id, &request.name, request_id)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedBot {
            id: created.id,
            username: created.username,
            token: created.token,
        }),
    ))
}

api_kit::error_responses!(
    /// What listing bots answers instead of success.
    ListBotsErrors: [STORE_ERRORS, BEARER_ERRORS, BOT_REFUSED], []
);

/// The caller's bots that were not revoked, oldest first (never their tokens).
#[utoipa::path(get, path = "/bots", tag = "bots",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's bots", body = [BotView]),
        ListBotsErrors,
    ))]
pub(crate) async fn list_bots(
    State(commands): State<Commands>,
    user: CurrentUser,
) -> Result<Json<Vec<BotView>>, HttpError> {
    let bots = commands.owned_bots(user.id).await?;
    Ok(Json(
        bots.into_iter()
            .map(|bot| BotView {
                id: bot.id,
                username: bot.username,
                created_at: bot.created_at,
            })
            .collect(),
    ))
}

api_kit::error_responses!(
    /// What revoking a bot answers instead of success.
    RevokeBotErrors: [STORE_ERRORS, PATH_ERRORS, BEARER_ERRORS, BOT_REFUSED], [
        ErrorCase::new(404, "bot_not_found", "Bot not found"),
    ]
);

/// Revoke one of the caller's bots: its token stops working on every server within a second,
/// and its sockets (4001) and event streams close. Someone else's bot is not found.
#[utoipa::path(delete, path = "/bots/{bot_id}", tag = "bots",
    params(("bot_id" = Uuid, Path, description = "The bot's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        RevokeBotErrors,
    ))]
pub(crate) async fn revoke_bot(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(bot_id): Path<Uuid>,
) -> Result<StatusCode, HttpError> {
    commands.revoke_bot(user.id, bot_id, request_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
