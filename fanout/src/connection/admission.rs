//! Who may open a socket on a room: decided from the Room aggregate itself.

use std::net::IpAddr;

use api_kit::Chain;
use auth::{AuthError, CurrentUser};
use domain::RoomError;
use uuid::Uuid;

use super::session::unauthorized_reason;
use super::{close, Credential, End, Request};
use crate::caps::SocketPermit;
use crate::frames::Dialect;
use crate::hub::Subscription;
use crate::FanoutState;

pub(super) struct Admission {
    pub(super) user: CurrentUser,
    pub(super) room_id: Uuid,
    pub(super) dialect: Dialect,
    pub(super) subscription: Subscription,
    /// The room's latest sequence when the socket was admitted.
    pub(super) last_seq: i64,
    pub(super) since: Option<i64>,
    pub(super) request_id: Option<String>,
    /// The socket's place under the caps on open sockets, held while it is open.
    pub(super) permit: SocketPermit,
}

/// The holder of the token, or of the token a ticket was issued for, while that token counts.
async fn authenticate(state: &FanoutState, credential: &Credential) -> Result<CurrentUser, End> {
    let refused = |error| End::close(close::UNAUTHORIZED, unauthorized_reason(&error));
    match credential {
        Credential::None => Err(End::close(close::UNAUTHORIZED, "missing token")),
        Credential::Token(token) => match CurrentUser::authenticate(&state.tokens, token).await {
            Ok(user) => Ok(user),
            Err(AuthError::BadToken(error)) => Err(refused(error)),
            Err(AuthError::Unavailable(error)) => {
                tracing::warn!(cause = %Chain(&error), "cannot look a bot token up");
                Err(End::unavailable())
            }
            Err(AuthError::MissingToken | AuthError::WrongCredentials) => {
                Err(End::close(close::UNAUTHORIZED, "invalid token"))
            }
        },
        Credential::Ticket(ticket) => {
            let claims = state
                .commands
                .redeem_socket_ticket(ticket)
                .await
                .map_err(|error| {
                    tracing::warn!(cause = %Chain(&error), "cannot redeem a socket ticket");
                    End::unavailable()
                })?
                .ok_or_else(|| End::close(close::UNAUTHORIZED, "invalid ticket"))?;
            state.tokens.still_valid(&claims).map_err(refused)?;
            // Tickets are issued to people only: bots may not ask for them.
            Ok(CurrentUser::with_claims(claims, false))
        }
    }
}

/// Token, caps, room and membership, the last two decided from the Room aggregate itself: a
/// socket opened right after a REST join is admitted, whatever the read tables say yet.
pub(super) async fn admit(
    state: &FanoutState,
    request: Request,
    address: IpAddr,
) -> Result<Admission, End> {
    let user = authenticate(state, &request.credential).await?;
    let permit = state
        .open
        .open(user.id, address)
        .map_err(|reached| End::close(close::TRY_AGAIN_LATER, reached.reason()))?;
    let room_id = Uuid::parse_str(&request.room)
        .map_err(|_| End::close(close::NOT_FOUND, RoomError::NotFound.to_string()))?;
    // Subscribed before the aggregate is read: whatever commits after the read arrives live.
    let subscription = state.hub.subscribe(room_id);
    let room = state.commands.load_room(room_id).await.map_err(|error| {
        tracing::warn!(%room_id, cause = %Chain(&error), "cannot read the room to admit a socket");
        End::unavailable()
    })?;
    if room.info().is_none() {
        return Err(End::close(
            close::NOT_FOUND,
            RoomError::NotFound.to_string(),
        ));
    }
    if !room.is_member(user.id) {
        return Err(End::close(
            close::FORBIDDEN,
            RoomError::NotAMember.to_string(),
        ));
    }
    let last_seq = room.last_seq() as i64;
    subscription.seen(last_seq);
    Ok(Admission {
        user,
        room_id,
        dialect: request.dialect,
        subscription,
        last_seq,
        since: request.since.map(|since| since.min(last_seq)),
        request_id: request.request_id,
        permit,
    })
}
