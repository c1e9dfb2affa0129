-- Bot accounts and the event feed.

-- A bot's token, kept as its SHA-256 only, and only while the bot may act: never in an event.
-- Written when the bot is created (after its `BotRegistered` commits) and deleted with its
-- `BotRevoked`, in that event's transaction.
CREATE TABLE bot_credentials
(
    bot_id     uuid PRIMARY KEY,
    owner_id   uuid        NOT NULL,
    username   text        NOT NULL,
    token_hash bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
CREATE INDEX bot_credentials_by_owner ON bot_credentials (owner_id, created_at);

CREATE FUNCTION forget_bot_credential() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    DELETE FROM bot_credentials WHERE bot_id = NEW.aggregate_id::uuid;
    RETURN NULL;
END;
$$;

CREATE TRIGGER forget_bot_credential
    AFTER INSERT ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'User' AND NEW.event_type = 'BotRevoked')
    EXECUTE FUNCTION forget_bot_credential();

-- A revoked bot is a user whose every token is revoked: `BotRevoked` carries the cut-off
-- `i64::MAX`, recorded and notified like a password change's, so every process refuses the bot
-- at once and closes its sockets and feed streams.
DROP TRIGGER record_revocation ON events;
CREATE TRIGGER record_revocation
    AFTER INSERT ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'User'
        AND NEW.event_type IN ('TokenRevoked', 'AllTokensRevoked', 'PasswordChanged', 'BotRevoked'))
    EXECUTE FUNCTION record_revocation();

-- Read model: who is a bot, and which messages a bot posted.
ALTER TABLE users ADD COLUMN is_bot boolean NOT NULL DEFAULT false;
ALTER TABLE messages ADD COLUMN is_bot boolean NOT NULL DEFAULT false;

-- The feed serves a position only once every transaction that could still commit a lower one has
-- ended. A position is taken at insert, not commit; so every statement that inserts events first
-- takes this lock, shared (writers never wait for each other), before any position is drawn, and
-- holds it to the end of its transaction. A reader that saw the identity's last value, then waits
-- until every holder of the lock at that moment is gone, knows every position up to that value
-- is committed or never will be (eventstore's `log/settled.rs`).
CREATE FUNCTION claim_positions() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7279, 1);
    RETURN NULL;
END;
$$;

CREATE TRIGGER claim_positions
    BEFORE INSERT ON events
    FOR EACH STATEMENT
    EXECUTE FUNCTION claim_positions();

-- The feed's starting membership: a user's joins and leaves, found without reading every event.
CREATE INDEX events_membership_by_user
    ON events (((payload -> event_type) ->> 'user_id'), position)
    WHERE aggregate_type = 'Room' AND event_type IN ('MemberJoined', 'MemberLeft');
