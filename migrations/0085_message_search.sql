-- Full-text search over messages (`GET /search/messages`).
--
-- Message text is never HTML, but PostgreSQL's default parser reads `<…>` as a tag and drops it
-- with everything inside, and `ts_headline` would print it as a space. So search reads `<` and
-- `>` as two control characters the parser takes for punctuation, and the snippet maker turns
-- them back. Messages can hold no control characters but newlines and tabs (the domain refuses
-- them); any that an older row holds anyway become spaces, so none can pass for those two, or for
-- the snippet's highlight markers (U+0001, U+0002).
CREATE FUNCTION message_search_text(content text) RETURNS text
    LANGUAGE sql
    IMMUTABLE
    PARALLEL SAFE
    RETURN translate(content, E'<>\x01\x02\x03\x04', E'\x03\x04    ');

-- Configuration `simple`: no stemming and no stop words, so every language is searched alike.
-- A generated column, so every write of `content` keeps it (the projector's posts, edits and
-- deletions, whose tombstones have no text) and `chat rebuild` and `chat verify` cover it with
-- the rest of the row. Adding it indexes every existing message.
ALTER TABLE messages
    ADD COLUMN search tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', message_search_text(content))) STORED;
CREATE INDEX messages_search ON messages USING gin (search);
-- Which rows are a room's, for a search to intersect with its matches before reading any row:
-- a caller reads a small part of the rooms, and fetching each match's row only to drop it costs
-- most of a search. The primary key could answer too, but this index holds each room once with
-- its rows' places (B-tree deduplication), so reading a room's share of it costs a tenth.
CREATE INDEX messages_by_room ON messages (room_id);

-- A search's words in web-search syntax (quoted phrases, `-word`, `or`), read like the messages.
-- Text without a word to search for is an empty query; the notice PostgreSQL sends about it is
-- kept from the logs, since the API answers it with a 422.
CREATE FUNCTION message_search_query(words text) RETURNS tsquery
    LANGUAGE sql
    IMMUTABLE
    PARALLEL SAFE
    SET client_min_messages = warning
    RETURN websearch_to_tsquery('simple', message_search_text(words));
