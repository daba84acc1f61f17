-- Spans already imported, each by its start time and a 64-bit hash of its trace and span ids: a
-- file exported again with more spans appended, or a batch that overlaps one sent before, counts
-- only the spans not seen. (`trace_batches` still answers a whole batch sent twice at once.)
-- No unique index: checking a million random hashes against a b-tree took 3–5 s; a batch is
-- checked by a hash join against the spans seen in its own time range, which the BRIN index on
-- the start time finds (spans arrive roughly in time order); a batch whose time range holds no
-- span seen is not checked at all. About 16 bytes and a tuple header per span.
CREATE TABLE trace_spans_seen (
    started_at  bigint NOT NULL,       -- seconds since 1970 (written by COPY as it is)
    span_hash   bigint NOT NULL
);
CREATE INDEX trace_spans_seen_time ON trace_spans_seen USING brin (started_at);
