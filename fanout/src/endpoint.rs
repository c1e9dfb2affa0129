//! `GET /ws/{room_id}`: the upgrade, with its description for integrators.

use api_kit::{ApiError, ClientAddress, ErrorCase, RequestId};
use axum::extract::rejection::PathRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::connection::{self, Credential, Request, HARD_FRAME_CAP};
use crate::frames::{self, Dialect};
use crate::FanoutState;

/// Per-socket buffers: axum's defaults cost about 134 KB per connection, these about 6 KB.
const READ_BUFFER: usize = 4096;
/// Frames given to a socket together are written together up to this much: a busy room's
/// deliveries then cost one system call for many frames, not one each. The buffer grows only as
/// far as a socket's largest batch.
const WRITE_BATCH: usize = 16 * 1024;
/// A write that cannot reach the network piles up here at most before the socket is dropped.
const MAX_WRITE_BUFFER: usize = 256 * 1024;

api_kit::error_responses!(
    /// What the upgrade answers over HTTP: everything after it is a close code.
    UpgradeErrors: [], [
        ErrorCase::new(400, "not_a_websocket", "Connection header did not include 'upgrade'"),
        ErrorCase::new(405, "not_a_websocket", "Request method must be `GET`"),
        ErrorCase::new(426, "not_a_websocket", "WebSocket request couldn't be upgraded since no upgrade state was present"),
    ]
);

/// Open a live socket on a room
///
/// A WebSocket (`ws://…/ws/{room_id}?ticket=…`, or `?token=…` as the seed's client opens it).
/// Only a member of the room with a valid token is admitted, decided from the event store (a
/// socket opened right after a join is admitted). A ticket (`POST /auth/ws-ticket`) works once,
/// on any server, within its lifetime, and stands for the token that asked for it. A refused
/// socket receives exactly one frame, the close frame: **4001** missing, invalid, expired or
/// revoked token, or a ticket unknown, used or expired (an open socket also closes with 4001 when
/// its token expires or is logged out); **4003** not a member (also sent when the member leaves while connected);
/// **4004** no such room; **4000** a malformed `v` or `since`, or both `token` and `ticket` (a room sequence is 0 to
/// 9223372036854775807; past the room's end means nothing to catch up); **1013** too many sockets
/// open (per user, 32; per client address, 256; on the server, 100,000 by default): the reason
/// names the limit; try again once one of yours closed.
///
/// **v1** (default, the seed's dialect): every text frame from the client is a message to post.
/// The server sends each message as `{"type":"message", id, seq, room_id, user_id, username,
/// content, client_msg_id, created_at}`, and `{"type":"system", content: "<user> joined" |
/// "<user> left", username: "System", created_at}` when sockets of the room open or close
/// (batched: at most one notice of each kind per room every 200 ms, naming everyone).
/// A v1 socket receives nothing else: refusals (invalid, rate-limited) arrive as system notices.
///
/// **v2** (`?v=2`, JSON frames): client frames `{"type":"send", content, client_msg_id?}`
/// (answered by `{"type":"ack", id, seq, client_msg_id}` or `{"type":"error", code, detail,
/// client_msg_id?, retry_after?}`), `{"type":"typing"}`, `{"type":"ping"}` (→ `{"type":"pong"}`)
/// and `{"type":"resume", since}` (a bad one is answered with an `invalid_frame` error; the socket
/// stays open). Up to 64 sends may be under way at once: they are committed and acknowledged in
/// the order sent, and the server reads no more frames from a socket until one is answered.
/// Server frames: messages as in v1; `member_joined`, `member_left`, `member_role_changed` with
/// their `seq`; `typing`; `presence` (everyone connected, sent on open) then `presence_changed`
/// (`joined` and `left` lists); `error`.
///
/// **Resume**: `?since=SEQ` (or a resume frame) delivers what the dialect would have received
/// after `SEQ`, exactly once and in order, then continues live. `seq` is the room's gapless
/// sequence (messages and membership events share it).
///
/// **Limits**: a frame over 64 KiB is refused with close **1009** and nothing of it is stored;
/// sends count against the same per-user rate as `POST /rooms/{room_id}/messages`; a socket that
/// answers no ping for 30 s is closed (**1001**); one that falls too far behind is closed with
/// **4008** and should resume with `since`; **1012** means the server is restarting (resume),
/// **1011** a temporary failure (resume). The full guide is `docs/websocket.md`.
#[utoipa::path(get, path = "/ws/{room_id}", tag = "websocket",
    params(
        ("room_id" = String, Path, description = "The room's id (a room that does not exist is refused with close 4004)"),
        ("ticket" = Option<String>, Query, description = "A socket ticket, as `POST /auth/ws-ticket` returns: used up on opening (an unknown, used or expired one is refused with close 4001; with `token` too, close 4000)"),
        ("token" = Option<String>, Query, description = "An access token, as `POST /auth/login` returns (the seed's way; a ticket keeps the token out of URLs). None, or a bad, expired or revoked one, is refused with close 4001"),
        ("v" = Option<u8>, Query, minimum = 1, maximum = 2, description = "Dialect: `1` (default, the seed's) or `2` (JSON frames); another value is refused with close 4000"),
        ("since" = Option<i64>, Query, minimum = 0, description = "Resume: deliver what came after this room sequence first; a negative or larger one is refused with close 4000"),
        ("connection" = String, Header, description = "Must include `Upgrade`"),
        ("upgrade" = String, Header, description = "`websocket`"),
        ("sec-websocket-version" = String, Header, description = "`13`"),
        ("sec-websocket-key" = String, Header, description = "16 random bytes in base64, as RFC 6455 says"),
    ),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol; refusals arrive as close frames. The frames both ways are described in `openapi/asyncapi.yaml`",
            headers(
                ("upgrade" = String, description = "`websocket`"),
                ("sec-websocket-accept" = String, description = "The key's answer, as RFC 6455 says"),
            )),
        UpgradeErrors,
    ))]
pub(crate) async fn connect(
    State(state): State<FanoutState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    RequestId(request_id): RequestId,
    client: ClientAddress,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return ApiError::new(rejection.status(), "not_a_websocket", rejection.body_text())
                .into_response()
        }
    };
    let room = path.map(|Path(room)| room).unwrap_or_default();
    let request = parse(room, query.as_deref().unwrap_or_default(), request_id);
    // Before the 101: what commits once the client sees its socket open must reach it.
    let verdict = connection::decide(&state, request, client.limit_key()).await;
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BATCH)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(HARD_FRAME_CAP)
        .max_frame_size(HARD_FRAME_CAP)
        .on_upgrade(move |socket| {
            let sockets = state.sockets.clone();
            sockets.track_future(connection::run(state, socket, verdict))
        })
}

#[derive(Deserialize)]
struct Params {
    token: Option<String>,
    ticket: Option<String>,
    v: Option<String>,
    since: Option<String>,
}

/// The query as the client wrote it; what is wrong with it is told in the close frame.
pub(crate) fn parse(
    room: String,
    query: &str,
    request_id: Option<String>,
) -> Result<Request, String> {
    let params: Params =
        serde_urlencoded::from_str(query).map_err(|error| format!("bad query: {error}"))?;
    let dialect = match params.v.as_deref() {
        None | Some("1") => Dialect::V1,
        Some("2") => Dialect::V2,
        Some(_) => return Err("v must be 1 or 2".into()),
    };
    let since = params
        .since
        .as_deref()
        .map(frames::parse_sequence)
        .transpose()?;
    let credential = match (params.token, params.ticket) {
        (Some(_), Some(_)) => return Err("send a token or a ticket, not both".into()),
        (Some(token), None) => Credential::Token(token),
        (None, Some(ticket)) => Credential::Ticket(ticket),
        (None, None) => Credential::None,
    };
    Ok(Request {
        room,
        credential,
        dialect,
        since,
        request_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dialect_defaults_to_the_seeds() {
        let request = parse("r".into(), "token=t", None).unwrap();
        assert_eq!(request.dialect, Dialect::V1);
        assert_eq!(request.since, None);
        assert_eq!(request.credential, Credential::Token("t".into()));
    }

    #[test]
    fn a_ticket_stands_in_for_the_token_but_never_beside_it() {
        let request = parse("r".into(), "ticket=abc&v=2", None).unwrap();
        assert_eq!(request.credential, Credential::Ticket("abc".into()));
        assert_eq!(
            parse("r".into(), "token=t&ticket=abc", None).unwrap_err(),
            "send a token or a ticket, not both"
        );
        assert_eq!(
            parse("r".into(), "", None).unwrap().credential,
            Credential::None
        );
    }

    #[test]
    fn a_bad_dialect_or_cursor_is_refused_with_a_reason() {
        assert_eq!(
            parse("r".into(), "v=3", None).unwrap_err(),
            "v must be 1 or 2"
        );
        assert!(parse("r".into(), "since=-1", None).is_err());
        assert_eq!(
            parse("r".into(), "v=2&since=7", None).unwrap().since,
            Some(7)
        );
    }

    #[test]
    fn a_cursor_past_the_largest_sequence_there_can_be_is_refused() {
        let request = parse("r".into(), "since=9223372036854775807", None).unwrap();
        assert_eq!(request.since, Some(i64::MAX));
        for since in ["9223372036854775808", "18446744073709551615", "-1", "x"] {
            assert_eq!(
                parse("r".into(), &format!("since={since}"), None).unwrap_err(),
                "since must be a room sequence, from 0 to 9223372036854775807"
            );
        }
    }
}
