-- The chaining trigger finds the last entry through the index on seq: `seq` is never NULL, and
-- `NULLS LAST` on a descending order made the planner sort the whole log on every entry.
CREATE OR REPLACE FUNCTION chain_audit_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE last record;
BEGIN
    PERFORM pg_advisory_xact_lock(8317701576496751972);
    SELECT a.seq, a.hash INTO last FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
    NEW.seq := coalesce(last.seq, 0) + 1;
    NEW.prev_hash := coalesce(last.hash, repeat('0', 64));
    NEW.hash := audit_hash(NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.target, NEW.detail, NEW.prev_hash);
    RETURN NEW;
END $$;
