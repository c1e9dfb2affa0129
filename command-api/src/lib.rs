//! The write side over HTTP. Every handler validates its input into domain values, runs one
//! command through the executor, and answers with what was committed. Register, create, join and
//! leave answer once the projection has applied their events, so the client's next read sees
//! them (DESIGN.md §2); posting a message answers at once with its `seq`.

mod accounts;
mod error;
mod messages;
mod rooms;
mod state;

pub use error::{room_error_status, CommandError};
pub use messages::{send_message, Post, PostOutcome, PostedMessage};
pub use state::{CommandSettings, CommandState};

use utoipa_axum::{router::OpenApiRouter, routes};

/// The command endpoints with their OpenAPI description; the caller supplies the state.
pub fn routes() -> OpenApiRouter<CommandState> {
    OpenApiRouter::new()
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::login))
        .routes(routes!(rooms::create_room))
        .routes(routes!(rooms::join_room))
        .routes(routes!(rooms::leave_room))
        .routes(routes!(messages::post_message))
}
