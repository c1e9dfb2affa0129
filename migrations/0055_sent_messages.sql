-- Which message a sender's own `client_msg_id` names in a room, so that a retry answers the
-- original however many messages were posted meanwhile. A row is written by the trigger below in
-- the transaction of its event, so a committed message is always found; rows older than a day
-- are deleted (the `commands` crate's pruning), which bounds the table by a day of sends.
CREATE TABLE sent_messages
(
    -- As the event has them, uncast, so that no event can fail to be stored for its row here.
    room_id       text        NOT NULL,
    sender_id     text        NOT NULL,
    client_msg_id text        NOT NULL,
    seq           bigint      NOT NULL,
    sent_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, sender_id, client_msg_id)
);

CREATE INDEX sent_messages_by_age ON sent_messages (sent_at);

-- The sender and the id come from the event's metadata, which the server writes (flat strings),
-- never from its payload: a payload PostgreSQL cannot read as text (a NUL in a message the
-- projection will refuse) must still be stored.
--
-- A second row for one key would be a duplicate the room's own window of recent ids did not
-- catch (more than a thousand sends with ids between a retry's check and its decision); the
-- first message stays the one a retry answers.
CREATE FUNCTION remember_sent_message() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    INSERT INTO sent_messages (room_id, sender_id, client_msg_id, seq)
    VALUES (NEW.aggregate_id,
            NEW.metadata ->> 'user_id',
            NEW.metadata ->> 'client_msg_id',
            NEW.sequence)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER remember_sent_message
    AFTER INSERT ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'Room' AND NEW.event_type = 'MessagePosted'
        AND NEW.metadata ->> 'client_msg_id' IS NOT NULL
        AND NEW.metadata ->> 'user_id' IS NOT NULL)
    EXECUTE FUNCTION remember_sent_message();

-- The sends of the last day, from before the table existed.
INSERT INTO sent_messages (room_id, sender_id, client_msg_id, seq, sent_at)
SELECT aggregate_id,
       metadata ->> 'user_id',
       metadata ->> 'client_msg_id',
       sequence,
       recorded_at
  FROM events
 WHERE aggregate_type = 'Room' AND event_type = 'MessagePosted'
   AND metadata ->> 'client_msg_id' IS NOT NULL
   AND metadata ->> 'user_id' IS NOT NULL
   AND recorded_at > now() - interval '24 hours'
ON CONFLICT DO NOTHING;
