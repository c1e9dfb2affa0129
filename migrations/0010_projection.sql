-- What the projector, `chat rebuild` and `chat verify` need besides the read tables of 0002.
-- The functions name every schema they touch, and run with `public` as their search path:
-- callers point theirs at a shadow copy.

-- The transaction that wrote each event. A position is taken at insert, not at commit, so a
-- reader of the store by position can pass an event whose transaction is still in flight and
-- never come back for it. Every event of a transaction older than the oldest one in flight
-- (`pg_snapshot_xmin(pg_current_snapshot())`) is settled: visible, or rolled back for good.
ALTER TABLE events
    ADD COLUMN transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_by_transaction ON events (transaction_id);

-- How far the projection has read the store: every event of a transaction older than this has
-- been applied. A projector catches up from here at start (and now and then), so events the bus
-- never delivered still reach the read tables.
CREATE TABLE projection_horizon
(
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    transaction_id xid8 NOT NULL
);
INSERT INTO projection_horizon (transaction_id) VALUES ('0');

-- The tables that make up the projection, in `public` and in every shadow copy of it. A
-- migration that adds a read table adds it here too (CREATE OR REPLACE), or rebuilds lose it.
CREATE FUNCTION projection_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE AS
$$
SELECT ARRAY ['users', 'rooms', 'room_members', 'messages', 'projection_checkpoints',
              'projection_horizon']
$$;

-- A fresh, empty copy of the projection in schema `target` (dropped first if it exists), with
-- its primary keys only: the other indexes come with projection_index_copy, once the bulk of
-- the rows is in, which is far cheaper than keeping them up to date row by row.
CREATE FUNCTION projection_create_copy(target text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = public AS
$$
DECLARE
    t   text;
    key record;
BEGIN
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', target);
    EXECUTE format('CREATE SCHEMA %I', target);
    FOREACH t IN ARRAY projection_tables()
        LOOP
            EXECUTE format('CREATE TABLE %I.%I (LIKE public.%I INCLUDING ALL EXCLUDING INDEXES)',
                           target, t, t);
            FOR key IN
                SELECT conname, pg_get_constraintdef(oid) AS definition
                  FROM pg_constraint
                 WHERE conrelid = format('public.%I', t)::regclass AND contype = 'p'
                LOOP
                    EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s',
                                   target, t, key.conname, key.definition);
                END LOOP;
        END LOOP;
    EXECUTE format('INSERT INTO %I.projection_horizon (transaction_id) VALUES (''0'')', target);
END;
$$;

-- Gives the copy in `target` every other index the live tables have, under the same names
-- (index names are per schema), so the swapped-in tables are found by the same names later.
CREATE FUNCTION projection_index_copy(target text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = public AS
$$
DECLARE
    definition text;
BEGIN
    FOR definition IN
        SELECT pg_get_indexdef(i.indexrelid)
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public'
           AND c.relname = ANY (projection_tables())
           AND NOT i.indisprimary
        LOOP
            EXECUTE replace(definition, ' ON public.', format(' ON %I.', target));
        END LOOP;
END;
$$;

-- Replaces the projection in `public` with the copy in `shadow`, in the caller's transaction.
-- The tables move rather than their rows, so the swap is quick whatever their size.
CREATE FUNCTION projection_swap_in(shadow text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = public AS
$$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY projection_tables()
        LOOP
            EXECUTE format('DROP TABLE public.%I', t);
            EXECUTE format('ALTER TABLE %I.%I SET SCHEMA public', shadow, t);
        END LOOP;
    EXECUTE format('DROP SCHEMA %I', shadow);
END;
$$;

-- Row count and an order-independent checksum of each projection table, live and in `copy`.
-- The horizon is left out: it records how the copy was read, not what it holds.
CREATE FUNCTION projection_compare(copy text)
    RETURNS TABLE
            (
                table_name      text,
                live_rows       bigint,
                copy_rows       bigint,
                live_checksum   text,
                copy_checksum   text
            )
    LANGUAGE plpgsql
    SET search_path = public AS
$$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY array_remove(projection_tables(), 'projection_horizon')
        LOOP
            table_name := t;
            EXECUTE format('SELECT count(*), coalesce(sum(hashtextextended(r::text, 0)::numeric), 0)::text
                              FROM public.%I r', t) INTO live_rows, live_checksum;
            EXECUTE format('SELECT count(*), coalesce(sum(hashtextextended(r::text, 0)::numeric), 0)::text
                              FROM %I.%I r', copy, t) INTO copy_rows, copy_checksum;
            RETURN NEXT;
        END LOOP;
END;
$$;

-- Up to `n` rows of table `t` found only live, and up to `n` found only in `copy`.
CREATE FUNCTION projection_differences(copy text, t text, n integer)
    RETURNS TABLE
            (
                side text,
                row_text text
            )
    LANGUAGE plpgsql
    SET search_path = public AS
$$
BEGIN
    RETURN QUERY EXECUTE format(
            '(SELECT ''live only'', r::text FROM public.%1$I r
               EXCEPT SELECT ''live only'', r::text FROM %2$I.%1$I r LIMIT %3$s)
             UNION ALL
             (SELECT ''rebuilt only'', r::text FROM %2$I.%1$I r
               EXCEPT SELECT ''rebuilt only'', r::text FROM public.%1$I r LIMIT %3$s)',
            t, copy, n);
END;
$$;

-- Drops a copy made by projection_create_copy.
CREATE FUNCTION projection_drop_copy(target text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = public AS
$$
BEGIN
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', target);
END;
$$;
