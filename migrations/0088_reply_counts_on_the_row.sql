-- A message's reply count and whether it has reactions are kept on its row by the projector, so
-- a history page reads them with the row: counting each message's replies and looking for its
-- reactions took two index probes per message, most of what a page of 50 cost PostgreSQL
-- (0.22 ms against 0.03 ms for the rows alone). `reacted` is exactly "has a reaction row": a page
-- gathers the reactions of those messages only.
ALTER TABLE messages
    ADD COLUMN reply_count bigint  NOT NULL DEFAULT 0,
    ADD COLUMN reacted     boolean NOT NULL DEFAULT false;
UPDATE messages m
   SET reply_count = r.n
  FROM (SELECT reply_to, count(*) AS n FROM messages WHERE reply_to IS NOT NULL GROUP BY reply_to) r
 WHERE m.id = r.reply_to;
UPDATE messages m
   SET reacted = true
 WHERE EXISTS (SELECT 1 FROM message_reactions x WHERE x.message_id = m.id);

-- A copy being built by `chat rebuild` has its primary keys only, until its other indexes are
-- built at the end. An edit, a deletion, a reaction or a reply finds its message by id, which
-- without `messages_by_id` read every row of the copy (150 ms at 1,000,000 messages, for each
-- such event). The rebuild builds the indexes these look up by as soon as a batch has one of
-- them; `projection_copy_indexes` then leaves out what the copy already has.
CREATE FUNCTION projection_copy_lookup_indexes(target text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = public AS
$$
DECLARE
    index_name text;
BEGIN
    FOREACH index_name IN ARRAY ARRAY ['messages_by_id', 'messages_replies']
        LOOP
            IF to_regclass(format('%I.%I', target, index_name)) IS NULL THEN
                EXECUTE replace(pg_get_indexdef(format('public.%I', index_name)::regclass),
                                ' ON public.', format(' ON %I.', target));
            END IF;
        END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION projection_copy_indexes(target text) RETURNS SETOF text
    LANGUAGE sql STABLE
    SET search_path = public AS
$$
SELECT replace(pg_get_indexdef(i.indexrelid), ' ON public.', format(' ON %I.', target))
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_am am ON am.oid = ic.relam
 WHERE n.nspname = 'public'
   AND c.relname = ANY (projection_tables())
   AND NOT i.indisprimary
   AND to_regclass(format('%I.%I', target, ic.relname)) IS NULL
 ORDER BY am.amname = 'gin' DESC,
          pg_relation_size(format('%I.%I', target, c.relname)::regclass) DESC,
          ic.relname
$$;
