-- Sources: the systems an estate is read from (a CycloneDX BOM, an AWS credential report, an MCP
-- config, …). Each import of a source is a snapshot: what the source brought before and no longer
-- lists is removed, unless something else (a hand-written file, another source) also speaks for it.

ALTER TABLE derived_from DROP CONSTRAINT derived_from_relation_check;
ALTER TABLE derived_from ADD CONSTRAINT derived_from_relation_check
    CHECK (relation IN ('finetune', 'adapter', 'merge', 'quantized', 'distill', 'unknown'));

CREATE TABLE sources (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    format             text NOT NULL CHECK (format IN ('cyclonedx', 'spdx', 'hf-model-card', 'aws-credential-report',
                                                       'gcp-service-account-keys', 'github-tokens', 'kubernetes', 'entra', 'mcp-config')),
    first_imported_at  timestamptz NOT NULL,
    last_imported_at   timestamptz NOT NULL,
    last_file          text NOT NULL,
    imports            integer NOT NULL DEFAULT 1
);

-- Which source lists an entity: the first one in the entity's own `source_id` column (written
-- with the entity itself, so that a million-key report costs no second million rows), any others
-- here. An entity no source lists any more is deleted, unless a hand-written file described it.
CREATE TABLE entity_sources (
    source_id  bigint NOT NULL REFERENCES sources (id),
    kind       text NOT NULL CHECK (kind IN ('models', 'datasets', 'agents', 'credentials', 'resources')),
    entity_id  bigint NOT NULL,
    -- When the source first listed it.
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (source_id, kind, entity_id)
);
CREATE INDEX entity_sources_by_entity ON entity_sources (kind, entity_id);

-- Entities a source stopped listing and nothing else spoke for: deleted from the inventory, kept here.
CREATE TABLE removed_entities (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id   bigint NOT NULL REFERENCES sources (id),
    kind        text NOT NULL,
    key         text NOT NULL,
    removed_at  timestamptz NOT NULL,
    entity      jsonb NOT NULL
);

-- Whether a hand-written file (the native format) ever described the entity: if so, no source's
-- snapshot removes it. What existed before sources is hand-written. `source_id` is the first
-- source that lists the entity (no foreign key: a million rows would each be checked, and
-- sources are never deleted).
ALTER TABLE models      ADD COLUMN hand_written boolean NOT NULL DEFAULT true, ADD COLUMN source_id bigint;
ALTER TABLE datasets    ADD COLUMN hand_written boolean NOT NULL DEFAULT true, ADD COLUMN source_id bigint;
ALTER TABLE agents      ADD COLUMN hand_written boolean NOT NULL DEFAULT true, ADD COLUMN source_id bigint;
ALTER TABLE credentials ADD COLUMN hand_written boolean NOT NULL DEFAULT true, ADD COLUMN source_id bigint;
ALTER TABLE resources   ADD COLUMN hand_written boolean NOT NULL DEFAULT true, ADD COLUMN source_id bigint;
