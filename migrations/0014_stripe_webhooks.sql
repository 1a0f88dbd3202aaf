-- Stripe webhooks (optional, near real time): each website's signing secret (whsec_…), sealed like its Stripe key
-- (AES-256-GCM under the master key, with the website bound as associated data), and the ids of the events already
-- received, so that a delivery Stripe retries is processed once. Event ids are kept a week (Stripe retries for up
-- to three days), then pruned.

CREATE TABLE stripe_webhook_secrets (
    website_id    TEXT PRIMARY KEY REFERENCES websites(id) ON DELETE CASCADE,
    ciphertext    BLOB NOT NULL,
    nonce         BLOB NOT NULL,
    key_version   INTEGER NOT NULL,
    set_by        TEXT REFERENCES users(id) ON DELETE SET NULL,
    set_at        TEXT NOT NULL,
    last_event_at TEXT           -- when the last verified event arrived
);

CREATE TABLE stripe_webhook_events (
    website_id  TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL,
    received_at INTEGER NOT NULL,  -- unix time
    PRIMARY KEY (website_id, event_id)
) WITHOUT ROWID;
CREATE INDEX stripe_webhook_events_by_age ON stripe_webhook_events(received_at);
