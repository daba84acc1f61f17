-- Tamper evidence for the audit log, and the ledgers' verified heads.

-- The audit log gets a hash chain like the evidence ledger's. `seq` is the chain order: ids are
-- handed out before a transaction commits, so two concurrent entries can commit out of id
-- order; `seq` is assigned under a lock held to the commit. Each hash covers the entry's fields
-- at their stored precision (the time to the microsecond) and its predecessor's hash.
ALTER TABLE audit_log ADD COLUMN seq bigint, ADD COLUMN prev_hash text, ADD COLUMN hash text;

CREATE FUNCTION audit_hash(seq bigint, at timestamptz, actor text, action text, target text, detail jsonb, prev text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array('sleeper-audit-1', seq, extract(epoch FROM at)::text, actor, action,
                                                      target, detail, prev)::text, 'UTF8')), 'hex')
$$;

CREATE FUNCTION chain_audit_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE last record;
BEGIN
    -- One appender at a time, to the commit: the ASCII of "sleepaud".
    PERFORM pg_advisory_xact_lock(8317701576496751972);
    SELECT a.seq, a.hash INTO last FROM audit_log a ORDER BY a.seq DESC NULLS LAST LIMIT 1;
    NEW.seq := coalesce(last.seq, 0) + 1;
    NEW.prev_hash := coalesce(last.hash, repeat('0', 64));
    NEW.hash := audit_hash(NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.target, NEW.detail, NEW.prev_hash);
    RETURN NEW;
END $$;

-- Entries made before this migration join the chain in id order.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
DO $$
DECLARE r record; prev text := repeat('0', 64); n bigint := 0;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        n := n + 1;
        UPDATE audit_log SET seq = n, prev_hash = prev, hash = audit_hash(n, r.at, r.actor, r.action, r.target, r.detail, prev)
        WHERE id = r.id RETURNING hash INTO prev;
    END LOOP;
END $$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;

ALTER TABLE audit_log ALTER COLUMN seq SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION chain_audit_entry();

-- How far each ledger was last verified, so that reports and exports check only what was added
-- since (and re-hash every record they cite). `sleeper verify` checks everything and moves it.
CREATE TABLE ledger_checkpoints (
    ledger            text PRIMARY KEY CHECK (ledger IN ('evidence', 'audit')),
    verified_through  bigint NOT NULL,
    head              text NOT NULL CHECK (head ~ '^[0-9a-f]{64}$'),
    verified_at       timestamptz NOT NULL DEFAULT now()
);
