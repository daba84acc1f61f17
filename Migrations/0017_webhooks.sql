-- Outgoing webhooks: what `sleeper serve` tells other systems. Events are facts, each recorded
-- once (`dedupe`): a recall, an action that became overdue, an acceptance that lapsed, the
-- credentials a scoring run newly found critical. Each event is delivered to each configured URL
-- until it is accepted (HTTP 2xx), with retries and backoff; every attempt is kept.

CREATE TABLE webhook_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('recall', 'overdue-action', 'lapsed-acceptance', 'critical-exposure')),
    subject     text NOT NULL,
    dedupe      text NOT NULL UNIQUE,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    event_id         bigint NOT NULL REFERENCES webhook_events (id),
    url              text NOT NULL,
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    gave_up          boolean NOT NULL DEFAULT false,
    last_status      int,
    last_error       text,
    PRIMARY KEY (event_id, url)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND NOT gave_up;
