-- What-if runs. A run scored as of another time than now answers "what would the scores be
-- then?"; it is kept (so it can be cited by id) but it is never the current truth: not the
-- latest run behind exposure, reports and exports, not a base for incremental runs, and absent
-- from history and trends unless asked for by id.
ALTER TABLE score_runs ADD COLUMN what_if boolean NOT NULL DEFAULT false;

-- Runs stored before this migration did not say. One whose as-of lies more than a minute from
-- the time it was made was asked about another time; an incremental run built on such a run
-- carried its answers forward, so it is no current truth either.
UPDATE score_runs SET what_if = true WHERE abs(extract(epoch FROM as_of - started_at)) > 60;
UPDATE score_runs r SET what_if = true
WHERE base_run_id IS NOT NULL AND EXISTS (SELECT 1 FROM score_runs b WHERE b.id = r.base_run_id AND b.what_if);

CREATE INDEX score_runs_current ON score_runs (id) WHERE NOT what_if;
