-- A message whose sender already used its `client_msg_id` in the room within the day is refused
-- by the statement that would store it, instead of being looked up before it is queued: that
-- lookup was a round trip to the database on every post, and most posts are new. The room's own
-- window of recent ids still answers a retry of its last 1,000 sends without the store; this
-- refusal catches the older ones, and the writer answers them with the original.
--
-- The whole statement is refused (SQLSTATE `ES001`, which the event store's committer knows),
-- so nothing of it is stored. The detail names each refused event, a line of its room and its
-- sequence, so the writer refuses those commands alone and stores the rest with one more
-- statement. Two sends of one key in one statement: the second is refused, where it used to be
-- stored beside the first.
CREATE OR REPLACE FUNCTION remember_sent_messages() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    repeats text;
BEGIN
    WITH sent AS (
        SELECT aggregate_id, metadata ->> 'user_id' AS sender_id,
               metadata ->> 'client_msg_id' AS client_msg_id, sequence
          FROM inserted
         WHERE aggregate_type = 'Room' AND event_type = 'MessagePosted'
           AND metadata ->> 'client_msg_id' IS NOT NULL
           AND metadata ->> 'user_id' IS NOT NULL),
         remembered AS (
             INSERT INTO sent_messages (room_id, sender_id, client_msg_id, seq)
             SELECT * FROM sent
             ON CONFLICT DO NOTHING
             RETURNING room_id, seq)
    SELECT string_agg(s.aggregate_id || ' ' || s.sequence, E'\n' ORDER BY s.aggregate_id, s.sequence)
      INTO repeats
      FROM sent s
     WHERE NOT EXISTS (SELECT 1 FROM remembered r
                        WHERE r.room_id = s.aggregate_id AND r.seq = s.sequence);
    IF repeats IS NOT NULL THEN
        RAISE EXCEPTION 'a message repeats a client_msg_id its sender used in the room'
            USING ERRCODE = 'ES001', DETAIL = repeats;
    END IF;
    RETURN NULL;
END;
$$;
