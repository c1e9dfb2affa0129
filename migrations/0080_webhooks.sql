-- Webhook deliveries. None of these tables is a projection: `chat rebuild` and `chat verify`
-- leave them alone, as they do the outbox. The configuration itself is the RoomWebhooks
-- aggregate's events; these hold what those events must not: the secrets, and the delivery
-- worker's own progress and outcomes.

-- The signing secret of each webhook. Written by the command that creates the webhook, before
-- its event commits, so a webhook never exists without one; deleted with the webhook. Only the
-- delivery worker reads it: no event, audit, feed or replay shows it.
CREATE TABLE webhook_secrets
(
    webhook_id uuid PRIMARY KEY,
    room_id    uuid        NOT NULL,
    secret     bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The delivery worker's copy of each live webhook, followed from the RoomWebhooks events, and
-- the lease that lets one worker at a time deliver to it (so deliveries stay in order with
-- several workers running).
CREATE TABLE webhook_endpoints
(
    webhook_id       uuid PRIMARY KEY,
    room_id          uuid        NOT NULL,
    url              text        NOT NULL,
    -- NULL: every room event type.
    event_types      text[],
    -- The WebhookCreated event's position: the webhook receives the room's later events.
    created_position bigint      NOT NULL,
    lease_owner      uuid,
    lease_until      timestamptz
);
CREATE INDEX webhook_endpoints_room ON webhook_endpoints (room_id);

-- How far the worker has queued each room that has or had webhooks: the room's sequence, and
-- the sequence of its RoomWebhooks aggregate whose events it has followed.
CREATE TABLE webhook_rooms
(
    room_id    uuid PRIMARY KEY,
    room_seq   bigint NOT NULL DEFAULT 0,
    hooks_seq  bigint NOT NULL DEFAULT 0
);

-- One room event to one webhook. Its id is the `webhook-id` header, the same on every attempt.
CREATE TABLE webhook_deliveries
(
    delivery_id     uuid PRIMARY KEY,
    webhook_id      uuid        NOT NULL REFERENCES webhook_endpoints ON DELETE CASCADE,
    room_seq        bigint      NOT NULL,
    event_position  bigint      NOT NULL,
    event_type      text        NOT NULL,
    -- The exact body POSTed (and signed): the event as the audit API shows it.
    body            text        NOT NULL,
    state           text        NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'dead_lettered')),
    attempts        integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (webhook_id, room_seq)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, room_seq)
    WHERE state = 'pending';

-- Every attempt and its outcome: the HTTP status answered, or why there was none.
CREATE TABLE webhook_attempts
(
    delivery_id  uuid        NOT NULL REFERENCES webhook_deliveries ON DELETE CASCADE,
    attempt      integer     NOT NULL,
    attempted_at timestamptz NOT NULL,
    status_code  integer,
    error        text,
    duration_ms  integer     NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
