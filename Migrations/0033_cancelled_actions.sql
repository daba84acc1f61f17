-- Releasing a recall does not do its open actions: they become `cancelled` (closed, with the
-- release's reason and who), counted apart from `done`.
ALTER TABLE remediation_actions DROP CONSTRAINT remediation_actions_status_check;
ALTER TABLE remediation_actions DROP CONSTRAINT remediation_actions_check;
ALTER TABLE remediation_actions ADD CONSTRAINT remediation_actions_status_check
    CHECK (status IN ('open', 'in-progress', 'done', 'cancelled'));
ALTER TABLE remediation_actions ADD CONSTRAINT remediation_actions_closed_check
    CHECK ((status IN ('done', 'cancelled')) = (closed_at IS NOT NULL));
-- Actions a release marked done before this rule were not done: they were cancelled.
UPDATE remediation_actions SET status = 'cancelled'
WHERE status = 'done' AND closed_because LIKE 'recall released by %';
