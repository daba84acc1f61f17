-- Control catalogs: frameworks and their items, Sleeper's own controls, the crosswalk between
-- them, and ATLAS mitigation → technique links. Loaded from Controls/ by `sleeper catalog sync`
-- (which `sleeper migrate` runs), or from a downloaded ATLAS file by `sleeper catalog import-atlas`.

CREATE TABLE frameworks (
    id        text PRIMARY KEY,
    name      text NOT NULL,
    edition   text NOT NULL,
    source    text NOT NULL DEFAULT '',
    licence   text NOT NULL DEFAULT '',
    shipped   boolean NOT NULL,            -- from Controls/ (true) or imported by a user (false)
    synced_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE framework_items (
    framework_id      text NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    id                text NOT NULL,
    name              text NOT NULL,
    description       text NOT NULL DEFAULT '',
    kind              text NOT NULL,
    parent_id         text,
    alias_of          text[] NOT NULL DEFAULT '{}',
    backdoor_relevant boolean NOT NULL DEFAULT false,
    position          integer NOT NULL,    -- order in the source file
    PRIMARY KEY (framework_id, id),
    FOREIGN KEY (framework_id, parent_id) REFERENCES framework_items (framework_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX framework_items_parent ON framework_items (framework_id, parent_id);

CREATE TABLE controls (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    description    text NOT NULL,
    applies_to     text[] NOT NULL CHECK (applies_to <> '{}' AND applies_to <@ ARRAY['model', 'dataset', 'agent', 'credential']),
    evidence       text NOT NULL,
    validity_days  integer NOT NULL CHECK (validity_days > 0),
    grace_days     integer NOT NULL CHECK (grace_days >= 0),
    position       integer NOT NULL
);

CREATE TABLE control_mappings (
    control_id    text NOT NULL REFERENCES controls (id) ON DELETE CASCADE,
    framework_id  text NOT NULL,
    item_id       text NOT NULL,
    relationship  text NOT NULL CHECK (relationship IN ('equivalent-to', 'equal-to', 'subset-of', 'superset-of',
                                                        'intersects-with', 'no-relationship')),
    PRIMARY KEY (control_id, framework_id, item_id),
    FOREIGN KEY (framework_id, item_id) REFERENCES framework_items (framework_id, id) ON DELETE CASCADE
);
CREATE INDEX control_mappings_item ON control_mappings (framework_id, item_id);

CREATE TABLE atlas_mitigations (
    framework_id   text NOT NULL,
    mitigation_id  text NOT NULL,
    technique_id   text NOT NULL,
    PRIMARY KEY (framework_id, mitigation_id, technique_id),
    FOREIGN KEY (framework_id, mitigation_id) REFERENCES framework_items (framework_id, id) ON DELETE CASCADE,
    FOREIGN KEY (framework_id, technique_id) REFERENCES framework_items (framework_id, id) ON DELETE CASCADE
);
CREATE INDEX atlas_mitigations_technique ON atlas_mitigations (framework_id, technique_id);

-- The SHA-256 of the catalog files last synced, so that syncing an unchanged catalog is a no-op.
CREATE TABLE catalog_state (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    sha256      text NOT NULL,
    synced_at   timestamptz NOT NULL DEFAULT now()
);
