use std::sync::Arc;

use auth::Tokens;
use axum::extract::FromRef;
use commands::Commands;

/// What the handlers share: the use cases, and the keys the `CurrentUser` extractor checks
/// bearer tokens with.
#[derive(Clone, FromRef)]
pub struct CommandState {
    commands: Commands,
    tokens: Arc<Tokens>,
}

impl CommandState {
    pub fn new(commands: Commands) -> Self {
        let tokens = commands.tokens().clone();
        Self { commands, tokens }
    }
}
