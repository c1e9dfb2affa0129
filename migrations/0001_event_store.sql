-- The event store: postgres-es's `events` table (its db/init.sql shape) plus a global position
-- and the time of recording. postgres-es names its INSERT columns, so the extra ones fill in.
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    -- Assigned at insert, not commit, and a failed insert burns a value: positions order events
    -- globally but have gaps. Per-aggregate sequences are the gapless ones.
    position       bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    recorded_at    timestamptz                  NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

-- Events waiting to be published. A row is written in the same transaction as its event, so an
-- event is never committed without eventually reaching the bus.
CREATE TABLE outbox
(
    position bigint PRIMARY KEY REFERENCES events (position)
);

CREATE FUNCTION enqueue_for_publication() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    INSERT INTO outbox (position) VALUES (NEW.position);
    -- A constant payload lets Postgres fold the notifications of one transaction into one.
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER enqueue_for_publication
    AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION enqueue_for_publication();
