-- Messages that change after they are posted: edits, deletions, reactions, replies, mentions.
-- A deleted message keeps its row, as a tombstone with no text; the event log keeps what it said.
ALTER TABLE messages
    ADD COLUMN reply_to  uuid,
    ADD COLUMN mentions  jsonb       NOT NULL DEFAULT '[]',
    ADD COLUMN edited_at timestamptz,
    ADD COLUMN deleted   boolean     NOT NULL DEFAULT false;
-- A message's replies, oldest first; and how many there are.
CREATE INDEX messages_replies ON messages (reply_to, seq) WHERE reply_to IS NOT NULL;

-- Who reacted to what; a message's reactions go with its deletion. `seq` is the room's sequence
-- of the reaction, so emoji list in the order they were first used, and people in theirs.
CREATE TABLE message_reactions
(
    message_id uuid   NOT NULL,
    emoji      text   NOT NULL,
    user_id    uuid   NOT NULL,
    username   text   NOT NULL,
    seq        bigint NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

-- Who is named in which message (`GET /users/me/mentions`, newest first). An edit replaces a
-- message's rows; a deletion keeps them, so the mention stays listed, as a tombstone.
CREATE TABLE message_mentions
(
    user_id    uuid        NOT NULL,
    message_id uuid        NOT NULL,
    room_id    uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX message_mentions_newest ON message_mentions (user_id, created_at DESC, message_id DESC);

CREATE OR REPLACE FUNCTION projection_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE AS
$$
SELECT ARRAY ['users', 'rooms', 'room_members', 'messages', 'message_reactions',
              'message_mentions', 'user_roles', 'projection_checkpoints', 'projection_horizon']
$$;

-- Every change of one message, for its audit (`/audit/rooms/{id}/messages/{id}/versions`).
-- Partial: posting a message, the hot path, writes nothing to it.
CREATE INDEX events_message_changes ON events (aggregate_id, (payload -> event_type ->> 'message_id'), sequence)
    WHERE aggregate_type = 'Room'
      AND event_type IN ('MessageEdited', 'MessageDeleted', 'ReactionAdded', 'ReactionRemoved');
