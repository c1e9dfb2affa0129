//! A registered user. Its id is derived from the username, so registration needs no lookup table.

mod aggregate;
mod commands;
mod events;

pub use aggregate::{User, UserError};
pub use commands::UserCommand;
pub use events::UserEvent;
