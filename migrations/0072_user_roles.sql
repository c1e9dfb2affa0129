-- Who holds which role, projected from RoleGranted and RoleRevoked (operators grant them with
-- `chat role grant`). Deciding an audit read goes by the user's aggregate itself; this table is
-- for listing them.
CREATE TABLE user_roles
(
    user_id    uuid        NOT NULL,
    role       text        NOT NULL,
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE OR REPLACE FUNCTION projection_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE AS
$$
SELECT ARRAY ['users', 'rooms', 'room_members', 'messages', 'user_roles',
              'projection_checkpoints', 'projection_horizon']
$$;

-- The audit trail (`GET /audit/reads`): every audit read and every role change, in order.
CREATE INDEX events_audit_trail ON events (position)
    WHERE aggregate_type = 'User' AND event_type IN ('AuditLogRead', 'RoleGranted', 'RoleRevoked');
