-- What a hand-written inventory file last said of each entity (its fields and the edges it owns,
-- as staged), as the first 8 bytes of their SHA-256. A re-import leaves out every entity whose
-- hash is unchanged. Anything else that writes a row or its edges (a source's snapshot, a
-- removal that cascades) clears the hash, so the next import compares that entity in full.
ALTER TABLE resources ADD COLUMN content_hash bigint;
ALTER TABLE datasets ADD COLUMN content_hash bigint;
ALTER TABLE models ADD COLUMN content_hash bigint;
ALTER TABLE credentials ADD COLUMN content_hash bigint;
ALTER TABLE agents ADD COLUMN content_hash bigint;
