//! The read side over HTTP. Rooms, members and history come from the projected read tables;
//! audits come from the event log itself, which is the system's record of what happened.

mod audit;
mod audit_trail;
mod error;
mod feed;
mod history;
mod listing;
mod page_size;
#[cfg(test)]
mod properties;
mod rooms;
mod state;
mod users;

pub use audit::{replay_timeline, ReplayError};
pub use error::QueryError;
pub use feed::{Feed, StreamCounts, Tail};
pub use state::QueryState;

use utoipa_axum::{router::OpenApiRouter, routes};

/// The query endpoints with their OpenAPI description; the caller supplies the state.
pub fn routes() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new()
        .routes(routes!(rooms::list_rooms))
        .routes(routes!(rooms::room_details))
        .routes(routes!(rooms::room_members))
        .routes(routes!(history::room_messages))
        .routes(routes!(users::me))
        .routes(routes!(users::my_rooms))
        .routes(routes!(audit::room_events))
        .routes(routes!(audit::user_events))
        .routes(routes!(audit::room_state))
        .routes(routes!(audit_trail::audit_reads))
        .routes(routes!(feed::events))
}
