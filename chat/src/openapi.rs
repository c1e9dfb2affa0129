//! One OpenAPI document for every role. The served `/openapi.json` is exactly this document,
//! and `openapi/openapi.json` is its committed copy (a test fails when they drift apart;
//! `make openapi` rewrites the copy).

use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::openapi::OpenApi;
use utoipa::Modify;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Chat",
        description = "An event-sourced chat server: public and private rooms, history, live \
                       WebSocket delivery. Every change is an event in an append-only store; \
                       reads come from projections of it.\n\nErrors are always \
                       `{\"detail\": ..., \"code\": ...}` JSON. Log in with **Authorize** \
                       (username and password) to try the endpoints that need a token.",
        license(name = "MIT")
    ),
    modifiers(&SecuritySchemes),
    // Every error answer's body; the operations refer to it with the codes each may carry.
    components(schemas(api_kit::ErrorBody)),
    tags(
        (name = "auth", description = "Registration and login"),
        (name = "rooms", description = "Creating, joining and leaving rooms"),
        (name = "webhooks", description = "A room's webhooks: its events POSTed, signed as Standard Webhooks, to endpoints its owners choose"),
        (name = "messages", description = "Posting messages and reading history"),
        (name = "users", description = "The caller's account and rooms"),
        (name = "audit", description = "The event log, for auditors (granted with `chat role grant auditor`)"),
        (name = "websocket", description = "Live rooms: messages as they are posted, resume by sequence, sends"),
    )
)]
struct BaseDocument;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // Lets Swagger UI's "Authorize" log in with a username and password.
        components.add_security_scheme(
            "password",
            SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
                "/auth/login",
                Scopes::new(),
            ))])),
        );
    }
}

/// The one document: every role's endpoints, whichever roles a process runs.
pub fn document() -> OpenApi {
    let mut document = <BaseDocument as utoipa::OpenApi>::openapi();
    document.merge(command_api::routes().into_openapi());
    document.merge(query_api::routes().into_openapi());
    document.merge(fanout::routes().into_openapi());
    document
}

pub fn document_json() -> String {
    document()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
}
