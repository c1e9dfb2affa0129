-- Direct rooms: the one private room of two people. Every room has a kind: `room`, a named room
-- that `GET /rooms/` lists, or `direct`, listed only to its two members. Every room made before
-- is a named one.
ALTER TABLE rooms
    ADD COLUMN kind text NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'direct'));

-- `GET /rooms/` lists named rooms only, oldest first: direct rooms, one per pair of people who
-- ever wrote to each other, may outnumber them by far, and must not slow the listing down.
DROP INDEX rooms_by_creation;
CREATE INDEX rooms_listed ON rooms (created_at, id) WHERE kind = 'room';
