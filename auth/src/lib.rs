//! Who is calling: password hashing, HS256 access tokens, and the extractors handlers use to
//! learn the current user.

mod extract;
mod passwords;
mod tokens;

pub use extract::{AuthError, CurrentUser, MaybeUser, BEARER_ERRORS};
pub use passwords::Passwords;
pub use tokens::{Claims, JwtSecret, TokenError, Tokens};
