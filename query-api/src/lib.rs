//! The read side over HTTP. Rooms, members and history come from the projected read tables;
//! audits come from the event log itself, which is the system's record of what happened.

mod audit;
mod audit_replay;
mod audit_trail;
mod audit_versions;
mod cursor_form;
mod error;
mod feed;
mod history;
mod listing;
mod message_view;
mod page_size;
#[cfg(test)]
mod properties;
mod replies;
mod rooms;
mod search;
mod state;
mod users;

pub use audit_replay::{replay_timeline, ReplayError};
pub use error::QueryError;
pub use feed::{Feed, StreamCounts, Tail};
pub use message_view::{read_message, MentionView, MessageView, ReactionView};
pub use rooms::{RoomKind, MY_ROOMS};
pub use state::QueryState;

use utoipa_axum::{router::OpenApiRouter, routes};

/// The query endpoints with their OpenAPI description; the caller supplies the state.
pub fn routes() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new()
        .routes(routes!(rooms::list_rooms))
        .routes(routes!(rooms::room_details))
        .routes(routes!(rooms::room_members))
        .routes(routes!(history::room_messages))
        .routes(routes!(replies::message_replies))
        .routes(routes!(replies::my_mentions))
        .routes(routes!(users::me))
        .routes(routes!(users::my_rooms))
        .routes(routes!(audit::room_events))
        .routes(routes!(audit::user_events))
        .routes(routes!(audit::room_state))
        .routes(routes!(audit_trail::audit_reads))
        .routes(routes!(feed::events))
        .routes(routes!(audit_versions::message_versions))
        .routes(routes!(search::search_messages))
}
