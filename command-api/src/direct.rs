//! Opening the direct room of two people.

use api_kit::{AfterProjection, ErrorCase, Json, Path, RequestId, PATH_ERRORS, STORE_ERRORS};
use auth::{CurrentUser, BEARER_ERRORS};
use axum::extract::State;
use commands::Commands;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::after_projection;
use crate::error::HttpError;
use crate::rooms::actor;

/// The direct room of the caller and the user named in the path.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectRoom {
    pub room_id: Uuid,
}

api_kit::error_responses!(
    /// What opening a direct room answers instead of success.
    OpenDirectRoomErrors: [STORE_ERRORS, PATH_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(404, "user_not_found", "No such user"),
        ErrorCase::new(422, "direct_room_with_self", "A direct room needs two different people"),
    ]
);

/// The one direct room of the caller and `username` (a person or a bot), opened by the first
/// call from either side and the same room from then on, however many calls race. It is
/// private, of `kind` `direct`, has exactly those two members (neither its owner, so nobody
/// gives it webhooks), cannot be joined or left (403 `direct_room`), is listed only in its
/// members' `GET /users/me/rooms`, and each member sees it named after the other.
#[utoipa::path(post, path = "/users/{username}/dm", tag = "rooms",
    params(("username" = String, Path, description = "The other person's username, in any letter case")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The direct room", body = DirectRoom,
            headers(("x-projection-pending" = String, description = "`true`: the read tables had not caught up with this write within the wait (about 2 s), so a read right after it may not show it yet")),
            links(
                ("GetRoom" = (operation_id = "room_details", parameters(("room_id" = "$response.body#/room_id")))),
                ("GetMembers" = (operation_id = "room_members", parameters(("room_id" = "$response.body#/room_id")))),
                ("GetHistory" = (operation_id = "room_messages", parameters(("room_id" = "$response.body#/room_id")))),
                ("PostMessage" = (operation_id = "post_message", parameters(("room_id" = "$response.body#/room_id")))),
                ("OpenSocket" = (operation_id = "connect", parameters(("room_id" = "$response.body#/room_id")))),
            )),
        OpenDirectRoomErrors,
    ))]
pub(crate) async fn open_direct_room(
    State(commands): State<Commands>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    Path(username): Path<String>,
) -> Result<AfterProjection<Json<DirectRoom>>, HttpError> {
    let opened = commands
        .open_direct_room(&actor(&user), &username, request_id)
        .await?;
    Ok(after_projection(opened, |room_id| DirectRoom { room_id }))
}
