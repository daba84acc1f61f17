-- Incremental runs. After an import or an evidence record, only the credentials downstream of the
-- change are rescored; the run stores just those rows and names the full run it builds on
-- (`base_run_id`). A run's scores are its own rows plus the base run's rows it does not replace,
-- so the base is always a full run and an incremental run carries its predecessor's rows forward.
ALTER TABLE score_runs
    ADD COLUMN base_run_id bigint REFERENCES score_runs (id),
    ADD COLUMN trigger     text NOT NULL DEFAULT 'full',
    ADD COLUMN rescored    integer,
    ADD COLUMN bands       jsonb;

-- Band counts of every full run so far, so that reports need not count a million rows per run.
UPDATE score_runs r SET bands = (
    SELECT coalesce(jsonb_object_agg(band, n), '{}') FROM (
        SELECT band, count(*) AS n FROM credential_scores s WHERE s.run_id = r.id GROUP BY band) b);
