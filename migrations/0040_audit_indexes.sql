-- "Everything this user did": audits find a user's events by the actor in their metadata.
CREATE INDEX events_by_actor ON events ((metadata ->> 'user_id'), position);
