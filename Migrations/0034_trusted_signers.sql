-- Who may sign a model: a signature by anyone else is a failed SLP-SIGNATURE, not a pass. A
-- signer is declared for one model or for every model of a supplier; the signer is written as
-- `sleeper verify-model` prints it (`key sha256:…`, `certificate … issued by …`, `keyless … via …`).
CREATE TABLE trusted_signers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_key    text,
    supplier     text,
    signer       text NOT NULL CHECK (length(signer) BETWEEN 1 AND 1000),
    declared_by  text NOT NULL CHECK (length(declared_by) BETWEEN 1 AND 200),
    declared_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((model_key IS NULL) <> (supplier IS NULL))
);
CREATE UNIQUE INDEX trusted_signers_once ON trusted_signers (coalesce(model_key, ''), coalesce(supplier, ''), signer);
