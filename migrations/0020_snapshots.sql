-- The latest state of an aggregate at some sequence, so loading a long stream reads only what
-- came after it. Written by the executor as a separate, best-effort upsert (never inside the
-- events' transaction); a missing, stale or undecodable row only costs a longer load.
CREATE TABLE snapshots
(
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    -- The sequence of the last event folded into `payload`.
    last_sequence  bigint      NOT NULL CHECK (last_sequence > 0),
    payload        json        NOT NULL,
    taken_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id)
);
