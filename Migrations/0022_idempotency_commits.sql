-- An Idempotency-Key is settled with its write's real outcome. The write's own transaction
-- records its id here before it commits, so that once the database is back after an outage a
-- key left "in progress" tells whether its write committed (the retry is answered so, and never
-- applied twice) or not (the retry runs it). A key still in progress after `serve
-- --idempotency-pending-seconds` is settled that way on the next retry.
ALTER TABLE idempotency_keys ADD COLUMN committed_xid bigint;
