-- Trace batches already imported, by a digest of their spans' (trace id, span id) pairs that does
-- not depend on their order: importing the same spans again (a retried POST, a re-run of
-- `observe import`) counts nothing twice. One row per batch, not per span.
CREATE TABLE trace_batches (
    digest       text PRIMARY KEY,
    spans        integer NOT NULL CHECK (spans >= 0),
    file         text NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now()
);
