-- The suppliers the organisation declares: its own (a BOM naming "Acme ML Platform" as the
-- supplier of Acme's fine-tune is not a third party) and those it allows. A model whose supplier
-- is one of these carries no `third_party_not_allowed` term, beside the allow-list of
-- Controls/scoring.yaml. Declared by a command or the API, audited; matched by name, case aside.
CREATE TABLE organisation_suppliers (
    name        text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200 AND name = btrim(name)),
    relation    text NOT NULL CHECK (relation IN ('own', 'allowed')),
    declared_by text NOT NULL,
    reason      text NOT NULL,
    declared_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX organisation_suppliers_folded ON organisation_suppliers (lower(name));
