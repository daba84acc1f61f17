-- Whether a credential still works, as its source says (a GCP key disabled, a GitHub token
-- expired, an AWS key made inactive) or a person wrote: it is kept with its state, listed apart,
-- and scores 0 (no path reaches a credential that opens nothing).
ALTER TABLE credentials ADD COLUMN state text NOT NULL DEFAULT 'active'
    CHECK (state IN ('active', 'disabled', 'revoked', 'expired'));
