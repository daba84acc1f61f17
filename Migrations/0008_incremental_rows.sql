-- The rows of incremental runs in one table. Each incremental run had been a partition of its
-- own: a new table, two index builds and an ATTACH for a few thousand rows, which was two thirds
-- of the time a rescore spent writing, and a partition per evidence record, which a busy service
-- would pile up by the thousand. Full runs keep a partition each, indexed in bulk.
CREATE TABLE incremental_scores (LIKE credential_scores INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
-- No foreign key to score_runs: checked row by row, it cost more than writing the rows. They are
-- only ever written with their run, in the run's transaction.
ALTER TABLE incremental_scores ADD PRIMARY KEY (run_id, credential_id);
-- No index by score: a run's own rows are found through the key and sorted when listed. A second
-- index led on run_id let the planner, which cannot know a new run's row count, scan every row of
-- a run once per credential it looked up.

-- Incremental runs made so far move over, and their partitions go.
INSERT INTO incremental_scores
SELECT * FROM credential_scores WHERE run_id IN (SELECT id FROM score_runs WHERE base_run_id IS NOT NULL);

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT id FROM score_runs WHERE base_run_id IS NOT NULL LOOP
        EXECUTE format('DROP TABLE IF EXISTS credential_scores_r%s', r.id);
    END LOOP;
END
$$;

ANALYZE incremental_scores;
