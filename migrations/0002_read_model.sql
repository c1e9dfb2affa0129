-- The read model: tables projected from the event store, under the seed's names. Every row can be
-- rebuilt from the events; nothing here is the source of truth.

CREATE TABLE users
(
    id         uuid PRIMARY KEY,
    username   text        NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE rooms
(
    id           uuid PRIMARY KEY,
    name         text        NOT NULL,
    is_private   boolean     NOT NULL,
    created_by   uuid        NOT NULL,
    created_at   timestamptz NOT NULL,
    member_count integer     NOT NULL DEFAULT 0,
    -- The room's latest sequence, messages and membership events alike.
    last_seq     bigint      NOT NULL DEFAULT 0
);
-- `GET /rooms/` lists rooms oldest first.
CREATE INDEX rooms_by_creation ON rooms (created_at, id);

CREATE TABLE room_members
(
    room_id    uuid        NOT NULL,
    user_id    uuid        NOT NULL,
    username   text        NOT NULL,
    role       text        NOT NULL,
    joined_at  timestamptz NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
-- "The rooms I am in".
CREATE INDEX room_members_by_user ON room_members (user_id, room_id);

-- Posted messages only; membership lives in room_members. `seq` is the room's event sequence,
-- so it has gaps where membership events sit, but is ordered and stable: history pages by it.
CREATE TABLE messages
(
    room_id       uuid        NOT NULL,
    seq           bigint      NOT NULL,
    id            uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    username      text        NOT NULL,
    content       text        NOT NULL,
    client_msg_id text,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (room_id, seq)
);
CREATE UNIQUE INDEX messages_by_id ON messages (id);

-- How far the projection has applied each aggregate's events: the key to applying each event
-- exactly once and in order.
CREATE TABLE projection_checkpoints
(
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    last_seq       bigint NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);
