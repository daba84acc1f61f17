-- From finding to fix. A recall withdraws a model, dataset or agent suspected of carrying a
-- backdoor: while it stands, scoring counts the subject as certainly compromised. The recall's
-- blast radius becomes remediation actions, which close when evidence shows the fix (a rotation,
-- a new digest, a removed hold), not when someone ticks a box. A risk acceptance records a
-- decision to live with a gap or an action until a date, with its approver.

CREATE TABLE recalls (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_kind    text NOT NULL CHECK (subject_kind IN ('model', 'dataset', 'agent')),
    subject_key     text NOT NULL,
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 4096),
    recalled_by     text NOT NULL,
    recalled_at     timestamptz NOT NULL DEFAULT now(),
    released_at     timestamptz,
    released_by     text,
    release_reason  text,
    CHECK ((released_at IS NULL) = (released_by IS NULL)),
    CHECK (released_at IS NULL OR released_at >= recalled_at)
);
-- One standing recall per subject.
CREATE UNIQUE INDEX recalls_standing ON recalls (subject_kind, subject_key) WHERE released_at IS NULL;

CREATE TABLE remediation_actions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recall_id         bigint NOT NULL REFERENCES recalls (id),
    subject_kind      text NOT NULL CHECK (subject_kind IN ('model', 'agent', 'credential')),
    subject_key       text NOT NULL,
    action            text NOT NULL CHECK (action IN ('rotate-or-revoke', 'disable-or-repoint', 'replace')),
    owner             text,                                   -- from the inventory at the recall; NULL: unowned
    band              text NOT NULL CHECK (band IN ('critical', 'high', 'medium', 'low')),
    score             int,                                    -- a credential's score once the recall counted
    rank              int NOT NULL,                           -- the order of the plan: credentials by score first
    digest_at_recall  text,                                   -- a model's digest: another one is its replacement
    due_at            timestamptz NOT NULL,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in-progress', 'done')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    closed_at         timestamptz,
    closed_because    text,
    CHECK ((status = 'done') = (closed_at IS NOT NULL)),
    UNIQUE (recall_id, subject_kind, subject_key)
);
CREATE INDEX remediation_actions_open ON remediation_actions (subject_kind, subject_key) WHERE status <> 'done';

CREATE TABLE risk_acceptances (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_kind  text NOT NULL CHECK (subject_kind IN ('model', 'dataset', 'agent', 'credential')),
    subject_key   text NOT NULL,
    control_id    text REFERENCES controls (id),
    action_id     bigint REFERENCES remediation_actions (id),
    band          text NOT NULL CHECK (band IN ('critical', 'high', 'medium', 'low')),
    accepted_until timestamptz NOT NULL,
    approved_by   text NOT NULL CHECK (length(approved_by) BETWEEN 1 AND 200),
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 4096),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((control_id IS NULL) <> (action_id IS NULL)),
    CHECK (accepted_until > created_at)
);
CREATE INDEX risk_acceptances_subject ON risk_acceptances (subject_kind, subject_key);
