-- `chat rebuild` and `chat verify` build a copy's secondary indexes on several connections at
-- once: alone, the GIN index of search took as long as every other index together. They ask for
-- the statements (each index the live tables have, under the same name, on the copy in
-- `target`), the GIN ones first and then by the size of their table, so the longest builds
-- start first.
DROP FUNCTION projection_index_copy(text);

CREATE FUNCTION projection_copy_indexes(target text) RETURNS SETOF text
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
 ORDER BY am.amname = 'gin' DESC,
          pg_relation_size(format('%I.%I', target, c.relname)::regclass) DESC,
          ic.relname
$$;
