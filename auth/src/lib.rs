//! Who is calling: password hashing, HS256 access tokens, what was revoked of them, and the
//! extractors handlers use to learn the current user.

pub mod bots;
mod extract;
mod passwords;
pub mod revocations;
mod tokens;

pub use extract::{
    bearer_token, refuse_bots, AuthError, CurrentUser, MaybeUser, BEARER_ERRORS, BOT_REFUSED,
};
pub use passwords::Passwords;
pub use revocations::Revocations;
pub use tokens::{Claims, JwtSecret, ShortSecret, TokenError, Tokens, MIN_SECRET_BYTES};
