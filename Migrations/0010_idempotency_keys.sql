-- Idempotent writes over the API. A client that retries a POST with the same `Idempotency-Key`
-- gets the first answer back instead of a second evidence record or import. Keys belong to the
-- caller (a token's actor); the request's SHA-256 (method, path, query, body) tells a retry
-- from a different request that reuses a key. `status` is NULL while the first request runs.
CREATE TABLE idempotency_keys (
    actor           text NOT NULL,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256  text NOT NULL CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
    status          integer,
    response        text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, key)
);
