//! The write side over HTTP: each handler takes the request apart, calls one use case of
//! [`commands`], and answers its outcome in the seed's JSON, or its error with a status. Register,
//! create, join and leave answer once the projection has applied their events (or say it is
//! pending, in `X-Projection-Pending`); posting a message answers at once with its `seq`.

mod accounts;
mod bots;
mod direct;
mod error;
mod message_changes;
mod messages;
mod rooms;
mod sessions;
mod state;
mod webhooks;

pub use state::CommandState;

use utoipa_axum::{router::OpenApiRouter, routes};

/// The command endpoints with their OpenAPI description; the caller supplies the state.
pub fn routes() -> OpenApiRouter<CommandState> {
    // A person's alone: a request with a bot token is refused before it reaches them.
    let people_only = OpenApiRouter::new()
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::login))
        .routes(routes!(sessions::log_out))
        .routes(routes!(sessions::log_out_everywhere))
        .routes(routes!(sessions::change_password))
        .routes(routes!(sessions::socket_ticket))
        .routes(routes!(bots::create_bot, bots::list_bots))
        .routes(routes!(bots::revoke_bot))
        .route_layer(axum::middleware::from_fn(auth::refuse_bots));
    OpenApiRouter::new()
        .merge(people_only)
        .routes(routes!(rooms::create_room))
        .routes(routes!(rooms::join_room))
        .routes(routes!(rooms::leave_room))
        .routes(routes!(direct::open_direct_room))
        .routes(routes!(messages::post_message))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(webhooks::delete_webhook))
        .routes(routes!(webhooks::webhook_deliveries))
        .routes(routes!(
            message_changes::edit_message,
            message_changes::delete_message
        ))
        .routes(routes!(message_changes::react, message_changes::unreact))
}

/// The JSON answer `body` makes of an outcome that waited for the projection, marked with
/// `X-Projection-Pending` when the wait ran out.
fn after_projection<T, B>(
    projected: commands::Projected<T>,
    body: impl FnOnce(T) -> B,
) -> api_kit::AfterProjection<api_kit::Json<B>> {
    api_kit::AfterProjection {
        body: api_kit::Json(body(projected.outcome)),
        pending: projected.pending,
    }
}
