-- The inventory: AI models, datasets, agents, NHI credentials (metadata only) and resources,
-- and the edges of the scoring graph. Edges point the way an attack flows.
-- Natural keys come from the inventory files; bigint ids keep joins small at a million credentials.

CREATE TABLE resources (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         text NOT NULL UNIQUE CHECK (key <> ''),
    name        text NOT NULL,
    owner       text,
    tier        smallint NOT NULL CHECK (tier BETWEEN 0 AND 3),  -- 0 crown jewels … 3 low value
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE datasets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         text NOT NULL UNIQUE CHECK (key <> ''),
    name        text NOT NULL,
    owner       text,
    provenance  text NOT NULL DEFAULT 'unknown'
                CHECK (provenance IN ('unknown', 'public_scraped', 'curated_screened')),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE models (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key                     text NOT NULL UNIQUE CHECK (key <> ''),
    name                    text NOT NULL,
    supplier                text,
    owner                   text,
    third_party             boolean NOT NULL DEFAULT false,
    digest                  text,
    signed                  boolean NOT NULL DEFAULT false,
    serialization           text NOT NULL DEFAULT 'unknown'
                            CHECK (serialization IN ('safetensors', 'gguf', 'onnx', 'pickle', 'pytorch', 'joblib',
                                                     'keras_h5', 'saved_model', 'other', 'unknown')),
    lineage_verified        boolean NOT NULL DEFAULT false,
    training_data_declared  boolean NOT NULL DEFAULT false,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key          text NOT NULL UNIQUE CHECK (key <> ''),
    name         text NOT NULL,
    owner        text,
    input_trust  text NOT NULL DEFAULT 'untrusted' CHECK (input_trust IN ('untrusted', 'internal', 'fixed')),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Metadata about a non-human identity. There is deliberately no column that could hold the secret.
CREATE TABLE credentials (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key              text NOT NULL UNIQUE CHECK (key <> ''),
    kind             text NOT NULL DEFAULT 'other'
                     CHECK (kind IN ('api_key', 'access_key', 'service_account', 'oauth_client', 'oauth_token',
                                     'personal_access_token', 'ssh_key', 'certificate', 'workload_identity',
                                     'database_password', 'other')),
    provider         text,
    owner            text,
    fingerprint      text CHECK (length(fingerprint) <= 128),
    scopes           text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz,
    last_rotated_at  timestamptz,
    expires_at       timestamptz,
    last_used_at     timestamptz,
    ttl_seconds      integer CHECK (ttl_seconds > 0),
    exposed          boolean NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (expires_at IS NULL OR created_at IS NULL OR expires_at >= created_at)
);

-- dataset → model
CREATE TABLE trained_on (
    dataset_id  bigint NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    model_id    bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    PRIMARY KEY (model_id, dataset_id)
);
CREATE INDEX trained_on_dataset ON trained_on (dataset_id);

-- parent model → derived model
CREATE TABLE derived_from (
    parent_id  bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    model_id   bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    relation   text NOT NULL CHECK (relation IN ('finetune', 'adapter', 'merge', 'quantized', 'distill')),
    PRIMARY KEY (model_id, parent_id),
    CHECK (parent_id <> model_id)
);
CREATE INDEX derived_from_parent ON derived_from (parent_id);

-- model → agent
CREATE TABLE uses_model (
    model_id  bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    agent_id  bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, model_id)
);
CREATE INDEX uses_model_model ON uses_model (model_id);

-- agent → agent: what the delegating agent produces becomes the delegate's input.
CREATE TABLE delegates_to (
    agent_id     bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    delegate_id  bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, delegate_id),
    CHECK (agent_id <> delegate_id)
);
CREATE INDEX delegates_to_delegate ON delegates_to (delegate_id);

-- agent → credential
CREATE TABLE holds (
    agent_id       bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    credential_id  bigint NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    delivery       text NOT NULL CHECK (delivery IN ('runtime_env', 'tool_held', 'brokered', 'federated')),
    PRIMARY KEY (agent_id, credential_id)
);
CREATE INDEX holds_credential ON holds (credential_id);

-- credential → resource
CREATE TABLE grants (
    credential_id  bigint NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    resource_id    bigint NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    action         text NOT NULL CHECK (action IN ('read', 'write', 'exec', 'admin')),
    PRIMARY KEY (credential_id, resource_id, action)
);
CREATE INDEX grants_resource ON grants (resource_id);
