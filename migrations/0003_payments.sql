-- Payments, from the DataFast-compatible Payments API now and from the Stripe import later: one row
-- per real money movement, keyed per website by its transaction id (a Stripe charge id for imports).

CREATE TABLE payments (
    id               TEXT PRIMARY KEY,
    website_id       TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    source           TEXT NOT NULL CHECK (source IN ('api', 'stripe')),
    transaction_id   TEXT NOT NULL,
    amount           INTEGER NOT NULL,      -- minor units of `currency`
    currency         TEXT NOT NULL,
    refunded_amount  INTEGER NOT NULL DEFAULT 0,
    settled_amount   INTEGER,               -- in the account currency (Stripe's balance transaction)
    settled_currency TEXT,
    fee              INTEGER,
    renewal          INTEGER NOT NULL DEFAULT 0,
    free_trial       INTEGER NOT NULL DEFAULT 0,
    visitor_id       TEXT,
    session_id       TEXT,
    customer_id      TEXT,
    customer_email   TEXT,
    customer_name    TEXT,
    paid_at          TEXT NOT NULL,
    recorded_at      TEXT NOT NULL,
    UNIQUE (website_id, transaction_id)
);
CREATE INDEX payments_by_time ON payments(website_id, paid_at DESC, id DESC);
CREATE INDEX payments_by_visitor ON payments(website_id, visitor_id);
