-- An action due on a day is due at the end of that day (UTC): one rule for every date that
-- something holds until. Actions created before keep their day and move to its last second.
UPDATE remediation_actions
SET due_at = date_trunc('day', due_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day' - interval '1 second'
WHERE due_at <> date_trunc('day', due_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day' - interval '1 second';
