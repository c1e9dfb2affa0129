//! Socket tickets: a browser cannot set headers on a WebSocket, and a token in the socket's URL
//! ends up in logs, so it trades its token for a short-lived, single-use ticket (table
//! `socket_tickets`, which every node reads) and opens the socket with that.

use std::time::Duration;

use auth::Claims;
use base64::Engine;
use rand::RngCore;

use crate::error::unreachable_store;
use crate::{CommandError, Commands};

/// Random bytes in a ticket: 256 bits, far past guessing.
const TICKET_BYTES: usize = 32;

const INSERT_TICKET: &str = "
INSERT INTO socket_tickets (ticket, user_id, username, token_id, token_iat_ms, token_exp, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))";

const FORGET_EXPIRED: &str = "DELETE FROM socket_tickets WHERE expires_at <= now()";

const REDEEM_TICKET: &str = "
DELETE FROM socket_tickets WHERE ticket = $1
RETURNING user_id, username, token_id, token_iat_ms, token_exp, expires_at > now()";

/// A ticket, and how long it may be redeemed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketTicket {
    pub ticket: String,
    pub expires_in: Duration,
}

impl Commands {
    /// A ticket for one socket of the holder of the token `claims` came from.
    pub async fn issue_socket_ticket(&self, claims: &Claims) -> Result<SocketTicket, CommandError> {
        let mut bytes = [0; TICKET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let ticket = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        sqlx::query(FORGET_EXPIRED)
            .execute(&self.pool)
            .await
            .map_err(unreachable_store)?;
        sqlx::query(INSERT_TICKET)
            .bind(&ticket)
            .bind(claims.uid)
            .bind(&claims.sub)
            .bind(claims.jti)
            .bind(claims.iat_ms)
            .bind(claims.exp)
            .bind(self.socket_ticket_lifetime.as_secs_f64())
            .execute(&self.pool)
            .await
            .map_err(unreachable_store)?;
        Ok(SocketTicket {
            ticket,
            expires_in: self.socket_ticket_lifetime,
        })
    }

    /// Uses `ticket` up, on whichever node it was issued: answers the claims of the token that
    /// asked for it, or `None` for a ticket unknown, used already or expired. Whether that token
    /// still counts is for the caller to check.
    pub async fn redeem_socket_ticket(&self, ticket: &str) -> Result<Option<Claims>, CommandError> {
        // Only what could be one of ours reaches the database (a NUL would not even be text).
        if !could_be_a_ticket(ticket) {
            return Ok(None);
        }
        let redeemed: Option<(uuid::Uuid, String, uuid::Uuid, i64, i64, bool)> =
            sqlx::query_as(REDEEM_TICKET)
                .bind(ticket)
                .fetch_optional(&self.pool)
                .await
                .map_err(unreachable_store)?;
        Ok(redeemed
            .filter(|(.., fresh)| *fresh)
            .map(|(uid, sub, jti, iat_ms, exp, _)| Claims {
                sub,
                uid,
                jti,
                iat: iat_ms.div_euclid(1000),
                iat_ms,
                exp,
            }))
    }
}

/// Whether `ticket` has the shape of the tickets issued: base64url of [`TICKET_BYTES`] bytes.
fn could_be_a_ticket(ticket: &str) -> bool {
    ticket.len() == (TICKET_BYTES * 4).div_ceil(3)
        && ticket
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strings_shaped_like_an_issued_ticket_are_looked_up() {
        let issued = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7; TICKET_BYTES]);
        assert!(could_be_a_ticket(&issued));
        for other in [
            "",
            "nope",
            &"A".repeat(42),
            &"A".repeat(44),
            &format!("{}\0", &issued[1..]),
            &format!("{}=", &issued[1..]),
        ] {
            assert!(!could_be_a_ticket(other), "{other:?}");
        }
    }
}
