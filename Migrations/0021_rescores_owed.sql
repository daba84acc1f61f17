-- A committed change is always scored. Every change that moves scores records, in its own
-- transaction, the rescore it is owed; the rescore marks it settled in the transaction that
-- writes its run. A rescore cut short (the database or the process killed between the change's
-- commit and the run's) leaves the row open, and the next command or request that reads scores,
-- or the service at start and on recovery, settles it before answering. Concurrent changes are
-- settled together: one run covers every change open when it starts.
CREATE TABLE rescores_owed (
    id           bigserial PRIMARY KEY,
    owed_at      timestamptz NOT NULL DEFAULT now(),
    -- What the change was (an audit-style phrase: "evidence #12", "import estate.yaml").
    trigger      text NOT NULL,
    actor        text NOT NULL,
    -- The run is as of this time at the earliest (the change's own time).
    as_of        timestamptz NOT NULL,
    -- Where its reach is traced from after the change ("kind:key"; resource keys) ...
    subjects     text[] NOT NULL DEFAULT '{}',
    resources    text[] NOT NULL DEFAULT '{}',
    -- ... and what it reached before the change (edges it removed), by id.
    credentials  bigint[] NOT NULL DEFAULT '{}',
    models       bigint[] NOT NULL DEFAULT '{}',
    -- A change too large to trace, or one that removed entities: a full run.
    full_run     boolean NOT NULL DEFAULT false,
    settled_at   timestamptz,
    -- The run that settled it; null when there was nothing to keep current (no run yet).
    settled_run  bigint REFERENCES score_runs(id) ON DELETE SET NULL
);
CREATE INDEX rescores_owed_open ON rescores_owed (id) WHERE settled_at IS NULL;
