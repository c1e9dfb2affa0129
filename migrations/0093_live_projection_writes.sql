-- How many transactions have written the live read tables. The projector numbers new messages
-- from the counts it keeps of each room's and each author's messages, instead of looking them up
-- in the tables for every message. Those counts hold only while no other transaction wrote the
-- tables since the projector's own last commit: another projector on another node, a catch-up, a
-- rebuild's swap. So every transaction that writes the live tables counts itself here, under the
-- live projection's lock (the projector's `Target::live`), and a writer that finds the count moved
-- by more than its own transactions forgets what it kept. Anything else that changes messages'
-- ordinals or rooms' message counts must count itself here too.
--
-- Not one of `projection_tables()`: a rebuild replaces those, and this must go on counting.
CREATE TABLE live_projection_writes (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    generation bigint  NOT NULL
);
INSERT INTO live_projection_writes (generation) VALUES (0);
