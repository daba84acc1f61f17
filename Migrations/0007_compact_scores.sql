-- Score rows without JSON. A run's compact explanation was a JSON document per credential (about
-- 170 bytes, most of it the top model's main factor in words); at a million credentials, writing
-- and checking it took longer than computing the scores. Now each row names its top path in plain
-- columns and its hygiene terms as bits, and each model's main factor is stored once per run.
-- Rows of earlier runs keep their `explanation`; readers take whichever a row has.
ALTER TABLE credential_scores
    ALTER COLUMN explanation DROP NOT NULL,
    ADD COLUMN top_model_id  bigint,       -- the model of the top path, in score_run_models of the run
    ADD COLUMN top_agent     text,         -- agent key of the top path
    ADD COLUMN top_resource  text,         -- resource key of the credential's most critical grant
    ADD COLUMN hygiene_terms smallint;     -- bit i set: the i-th term of ScoringEngine.hygieneTermNames holds

-- The exposure list breaks ties by credential id (the order credentials entered the inventory):
-- an index of integers builds in half the time of one ending in a text key.
DROP INDEX credential_scores_by_score;
CREATE INDEX credential_scores_by_score ON credential_scores (run_id, score DESC, credential_id);

-- Each model's scores in a run: L* for incremental runs to start from (a rescore then loads only
-- the changed part and its direct upstream), and the main factor credentials name it by. A full
-- run stores every model; an incremental run the ones it recomputed, plus those of the
-- incremental run it follows, like its credential rows.
CREATE TABLE score_run_models (
    run_id     bigint NOT NULL REFERENCES score_runs (id) ON DELETE CASCADE,
    model_id   bigint NOT NULL,                -- not a foreign key: history outlives the inventory
    model_key  text NOT NULL,
    l_star     double precision NOT NULL,
    main       text NOT NULL,
    PRIMARY KEY (run_id, model_id)
);
