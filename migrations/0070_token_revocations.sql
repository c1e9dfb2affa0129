-- What was revoked of the access tokens before they expire: each logged-out token by its id, and
-- per user the instant (milliseconds) before which every token was revoked (a password change,
-- "log out everywhere"). A trigger writes them with the revoking event, in its transaction, and
-- notifies `revocation`, so every process's copy (loaded at start) learns of it at once. Rows
-- that only concern expired tokens are deleted (the `auth` crate's follower), which bounds the
-- tables by one token lifetime of revocations.

CREATE TABLE revoked_tokens
(
    token_id   uuid PRIMARY KEY,
    user_id    uuid        NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

CREATE TABLE token_cut_offs
(
    user_id       uuid PRIMARY KEY,
    valid_from_ms bigint NOT NULL
);

CREATE FUNCTION record_revocation() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    fields     json := NEW.payload -> NEW.event_type;
    token_id   uuid;
    expires_at timestamptz;
    cut_off    bigint;
BEGIN
    IF NEW.event_type = 'TokenRevoked' THEN
        token_id := (fields ->> 'token_id')::uuid;
        expires_at := (fields ->> 'expires_at')::timestamptz;
        INSERT INTO revoked_tokens (token_id, user_id, expires_at)
        VALUES (token_id, NEW.aggregate_id::uuid, expires_at)
        ON CONFLICT DO NOTHING;
        PERFORM pg_notify('revocation',
                          format('token:%s:%s', token_id, extract(epoch FROM expires_at)::bigint));
    ELSE
        cut_off := (fields ->> 'tokens_valid_from_ms')::bigint;
        INSERT INTO token_cut_offs (user_id, valid_from_ms)
        VALUES (NEW.aggregate_id::uuid, cut_off)
        ON CONFLICT (user_id) DO UPDATE
            SET valid_from_ms = greatest(token_cut_offs.valid_from_ms, excluded.valid_from_ms);
        PERFORM pg_notify('revocation', format('user:%s:%s', NEW.aggregate_id, cut_off));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER record_revocation
    AFTER INSERT ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'User'
        AND NEW.event_type IN ('TokenRevoked', 'AllTokensRevoked', 'PasswordChanged'))
    EXECUTE FUNCTION record_revocation();
