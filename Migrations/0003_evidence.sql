-- The evidence ledger: which control was checked on which exact artifact, when, with what
-- result, until when. Append-only: a correction or a withdrawal is a new record that names the
-- one it supersedes. Each record carries the SHA-256 of its canonical content chained to the
-- previous record's hash, so that an edited, deleted or reordered row is detected by
-- `sleeper verify`.

-- What digest each model had, and since when, so that evidence bound to a digest can be judged
-- as of any date.
CREATE TABLE model_digests (
    model_key    text NOT NULL,
    digest       text,
    observed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_key, observed_at)
);

CREATE FUNCTION record_model_digest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.digest IS DISTINCT FROM OLD.digest THEN
        INSERT INTO model_digests (model_key, digest, observed_at) VALUES (NEW.key, NEW.digest, now())
        ON CONFLICT (model_key, observed_at) DO UPDATE SET digest = excluded.digest;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER models_digest_history AFTER INSERT OR UPDATE OF digest ON models
    FOR EACH ROW EXECUTE FUNCTION record_model_digest();

INSERT INTO model_digests (model_key, digest, observed_at) SELECT key, digest, updated_at FROM models;

CREATE TABLE evidence (
    id              bigint PRIMARY KEY CHECK (id > 0),          -- 1, 2, 3 … with no gaps: the chain order
    subject_kind    text NOT NULL CHECK (subject_kind IN ('model', 'dataset', 'agent', 'credential')),
    subject_key     text NOT NULL,
    control_id      text NOT NULL REFERENCES controls (id),
    result          text NOT NULL CHECK (result IN ('pass', 'fail', 'not-applicable', 'withdrawn')),
    effective_at    timestamptz NOT NULL,                        -- when the check was made
    expires_at      timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,                        -- when it reached Sleeper
    subject_digest  text,                                        -- the model's digest when recorded
    artifacts       jsonb NOT NULL DEFAULT '[]',                 -- [{name, sha256, size}], never content
    uri             text,
    recorded_by     text,
    note            text,
    supersedes      bigint REFERENCES evidence (id),
    prev_hash       text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash            text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
    CHECK (expires_at > effective_at),
    CHECK (supersedes IS NULL OR supersedes < id)
);
CREATE INDEX evidence_subject ON evidence (subject_kind, subject_key, control_id);
CREATE INDEX evidence_supersedes ON evidence (supersedes) WHERE supersedes IS NOT NULL;

-- Nobody changes the ledger through SQL either: updates, deletes and truncation are refused.
-- (A role that owns the table could drop this trigger; give the service a role that does not own
-- it and holds only SELECT and INSERT, as the README describes. The hash chain catches the rest.)
CREATE FUNCTION refuse_evidence_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the evidence ledger is append-only: record a correction or a withdrawal instead'
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER evidence_append_only BEFORE UPDATE OR DELETE ON evidence
    FOR EACH ROW EXECUTE FUNCTION refuse_evidence_change();
CREATE TRIGGER evidence_no_truncate BEFORE TRUNCATE ON evidence
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_evidence_change();
