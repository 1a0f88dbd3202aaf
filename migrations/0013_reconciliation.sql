-- Reconciliation with Stripe's ledger: per website, the last check of revlink's gross, refunds and fees per UTC day
-- against Stripe's balance transactions, and what still differed after the differing days were read again.

CREATE TABLE stripe_reconciliations (
    website_id           TEXT PRIMARY KEY REFERENCES websites(id) ON DELETE CASCADE,
    state                TEXT NOT NULL DEFAULT 'idle' CHECK (state IN ('idle', 'running', 'error')),
    started_at           TEXT,          -- when the check under way (or the last one) began
    checked_at           TEXT,          -- when the last complete check ended
    days                 INTEGER NOT NULL DEFAULT 0,
    matched_days         INTEGER NOT NULL DEFAULT 0,
    repaired_days        INTEGER NOT NULL DEFAULT 0,  -- differed, then matched once read again
    balance_transactions INTEGER NOT NULL DEFAULT 0,
    requests             INTEGER NOT NULL DEFAULT 0,
    attempted_at         TEXT,          -- when the last check, complete or not, ended (the daily schedule's clock)
    last_error           TEXT
);

-- What the last complete check found still different, one row per day, currency and figure.
CREATE TABLE stripe_reconciliation_mismatches (
    website_id TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    date       TEXT NOT NULL,       -- YYYY-MM-DD (UTC)
    currency   TEXT NOT NULL,
    field      TEXT NOT NULL CHECK (field IN ('gross', 'refunds', 'fees')),
    revlink    INTEGER NOT NULL,
    stripe     INTEGER NOT NULL,
    PRIMARY KEY (website_id, date, currency, field)
) WITHOUT ROWID;

-- Which charge each refund refunds: a refund's balance transaction names only the refund. Kept by the import's
-- refund list, and by the reconciliation for the refunds it had to look up.
CREATE TABLE stripe_refund_refs (
    website_id TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    refund_id  TEXT NOT NULL,
    charge_id  TEXT NOT NULL,
    PRIMARY KEY (website_id, refund_id)
) WITHOUT ROWID;
