-- Single-use tickets that open a WebSocket without putting the access token in its URL (where
-- proxies and browsers log it). Any node redeems a ticket, once: the redeeming DELETE ... RETURNING
-- is atomic. A ticket carries the claims of the token that asked for it, so the socket closes
-- when that token is revoked or expires. Rows live seconds; expired ones are deleted as new ones
-- are issued.
CREATE TABLE socket_tickets
(
    ticket         text PRIMARY KEY,
    user_id        uuid        NOT NULL,
    username       text        NOT NULL,
    token_id       uuid        NOT NULL,
    token_iat_ms   bigint      NOT NULL,
    token_exp      bigint      NOT NULL,
    expires_at     timestamptz NOT NULL
);
CREATE INDEX socket_tickets_by_expiry ON socket_tickets (expires_at);
