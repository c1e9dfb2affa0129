-- Read positions: how far each member has read each room, and what is unread after it.

-- Each reader's furthest move per room (`ReadPositionMoved` events). A row outlives a leave:
-- a member who comes back starts at their join (read_floor below), which is further.
CREATE TABLE read_positions
(
    user_id uuid   NOT NULL,
    room_id uuid   NOT NULL,
    seq     bigint NOT NULL,
    PRIMARY KEY (user_id, room_id)
);

-- Where a member's reading starts: everything before their join counts as read, so
-- `last_read_seq` is greatest(read_floor, their own position).
ALTER TABLE room_members
    ADD COLUMN read_floor bigint NOT NULL DEFAULT 0;

-- Not a read table: written here once and never again. Members who were in a room before read
-- positions existed have read it up to its latest sequence then, and a rebuild, which only
-- sees their joins, must start them there too.
CREATE TABLE read_baselines
(
    room_id uuid PRIMARY KEY,
    seq     bigint NOT NULL
);
INSERT INTO read_baselines (room_id, seq)
SELECT id, last_seq FROM rooms WHERE last_seq > 0;
UPDATE room_members m
   SET read_floor = b.seq
  FROM read_baselines b
 WHERE b.room_id = m.room_id;

-- Unread counts without counting each unread message: `ordinal` numbers a room's messages
-- 1, 2, 3… (deleted ones too) and `message_count` is the room's latest, so the messages after a
-- position number message_count - (ordinal of the last message at or before it).
-- `author_ordinal` numbers each author's messages in the room the same way, so the caller's own
-- after a position are (their latest author_ordinal) - (their last one at or before it). Only
-- the deleted ones after it are counted as rows (few), through the partial index below.
ALTER TABLE rooms
    ADD COLUMN message_count bigint NOT NULL DEFAULT 0;
ALTER TABLE messages
    ADD COLUMN ordinal        bigint NOT NULL DEFAULT 0,
    ADD COLUMN author_ordinal bigint NOT NULL DEFAULT 0;
UPDATE messages m
   SET ordinal = n.ordinal, author_ordinal = n.author_ordinal
  FROM (SELECT room_id, seq,
               row_number() OVER (PARTITION BY room_id ORDER BY seq) AS ordinal,
               row_number() OVER (PARTITION BY room_id, user_id ORDER BY seq) AS author_ordinal
          FROM messages) n
 WHERE n.room_id = m.room_id AND n.seq = m.seq;
UPDATE rooms r
   SET message_count = c.n
  FROM (SELECT room_id, count(*) AS n FROM messages GROUP BY room_id) c
 WHERE c.room_id = r.id;

CREATE INDEX messages_by_author ON messages (room_id, user_id, seq) INCLUDE (author_ordinal);
CREATE INDEX messages_deleted ON messages (room_id, seq) INCLUDE (user_id) WHERE deleted;

CREATE OR REPLACE FUNCTION projection_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE AS
$$
SELECT ARRAY ['users', 'rooms', 'room_members', 'messages', 'message_reactions',
              'message_mentions', 'user_roles', 'read_positions', 'projection_checkpoints',
              'projection_horizon']
$$;
