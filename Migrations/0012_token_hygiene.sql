-- Sleeper's own non-human identities meet the hygiene it scores others on: every API token
-- expires, its last use is known, it can be rotated in place, and a revocation says why.
ALTER TABLE api_tokens
    ADD COLUMN expires_at     timestamptz,
    ADD COLUMN last_used_at   timestamptz,
    ADD COLUMN rotated_at     timestamptz,
    ADD COLUMN revoke_reason  text;

-- Tokens made before expiry existed get the default lifetime from now, rather than stopping at once.
UPDATE api_tokens SET expires_at = now() + interval '90 days' WHERE expires_at IS NULL;
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;
