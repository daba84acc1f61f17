-- Keys found to name a model stored under another key (ModelIdentity): the same content digest,
-- a hand-written `same_as`. Imports rename an alias to its model's key at the door, and evidence
-- recorded of an alias counts for the model.
CREATE TABLE model_aliases (
    alias        text PRIMARY KEY,
    canonical    text NOT NULL,
    reason       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (alias <> canonical)
);
CREATE INDEX model_aliases_canonical ON model_aliases (canonical);
