-- The ledger's last record when a run was made: evidence recorded between two runs is then the
-- records after the first run's head up to the second's, whatever the clock said (runs and
-- records are stamped in whole seconds, and two can share one). `exposure diff` names such records
-- as the reason a credential moved. Runs made before this migration have none; their window is
-- read from their times.
ALTER TABLE score_runs ADD COLUMN ledger_head bigint;
