-- Scoring runs and their results. Runs are kept so that history can be compared; each records
-- the weights version and the as-of time that produced it.

CREATE TABLE score_runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at       timestamptz NOT NULL DEFAULT now(),
    as_of            timestamptz NOT NULL,
    weights_version  text NOT NULL,
    models           integer NOT NULL,
    agents           integer NOT NULL,
    credentials      integer NOT NULL,
    duration_ms      integer NOT NULL
);

-- One partition per run: a run's million rows are COPYed into a table without indexes, indexed in
-- bulk, then attached (row-by-row index maintenance took longer than the scoring itself).
CREATE TABLE credential_scores (
    run_id          bigint NOT NULL REFERENCES score_runs (id) ON DELETE CASCADE,
    credential_id   bigint NOT NULL,                -- not a foreign key: history outlives the inventory
    credential_key  text NOT NULL,
    score           smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    band            text NOT NULL CHECK (band IN ('critical', 'high', 'medium', 'low')),
    p               double precision NOT NULL,
    impact          double precision NOT NULL,
    hygiene         double precision NOT NULL,
    impact_count    integer NOT NULL,
    exposure_count  integer NOT NULL,
    explanation     json NOT NULL                   -- compact: top path, main factor, hygiene terms
) PARTITION BY LIST (run_id);
CREATE UNIQUE INDEX credential_scores_key ON credential_scores (run_id, credential_id);
CREATE INDEX credential_scores_by_score ON credential_scores (run_id, score DESC, credential_key);
