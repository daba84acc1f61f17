-- Runtime: what agents may do (the declared envelope) and what they were seen doing.

-- Where a resource is reached: hosts or URL prefixes an agent granted it may call.
ALTER TABLE resources ADD COLUMN endpoints text[] NOT NULL DEFAULT '{}';
-- The tools an agent may call; NULL when the inventory does not say (its tool calls are not judged).
ALTER TABLE agents ADD COLUMN tools text[];

-- A credential whose holder a failed runtime check holds: its main factor names that, not a model.
ALTER TABLE credential_scores ADD COLUMN held_by text;
ALTER TABLE incremental_scores ADD COLUMN held_by text;

-- Observed edges, not spans: one row per agent and thing it was seen calling, so that storage
-- grows with distinct behaviour, not with traffic.
CREATE TABLE observed_edges (
    agent_key       text NOT NULL CHECK (agent_key <> ''),
    kind            text NOT NULL CHECK (kind IN ('tool', 'host', 'model')),
    target          text NOT NULL CHECK (target <> ''),
    first_seen      timestamptz NOT NULL,
    last_seen       timestamptz NOT NULL,
    count           bigint NOT NULL CHECK (count > 0),
    example_traces  text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (agent_key, kind, target),
    CHECK (last_seen >= first_seen)
);

-- What was seen outside the envelope. One row per agent, kind and target; people decide on it
-- (acknowledged, false-positive) with a reason, and the decision is audited.
CREATE TABLE runtime_findings (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_key           text NOT NULL CHECK (agent_key <> ''),
    kind                text NOT NULL CHECK (kind IN ('undeclared-host', 'undeclared-tool', 'shadow-model', 'new-after-baseline')),
    target              text NOT NULL,
    first_seen          timestamptz NOT NULL,
    last_seen           timestamptz NOT NULL,
    count               bigint NOT NULL CHECK (count > 0),
    example_traces      text[] NOT NULL DEFAULT '{}',
    trigger_candidates  jsonb NOT NULL DEFAULT '[]',
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'false-positive')),
    reason              text,
    decided_by          text,
    decided_at          timestamptz,
    UNIQUE (agent_key, kind, target)
);
CREATE INDEX runtime_findings_status ON runtime_findings (status, agent_key);
