-- The Stripe import: one sync state per website, one pass state per Stripe list it reads, and what
-- the objects around a charge say about it (visitor ids from checkout sessions, billing reasons from
-- invoices), kept compact so that a charge read later can be attributed without holding lists in memory.

ALTER TABLE payments ADD COLUMN disputed INTEGER NOT NULL DEFAULT 0;
-- Renewals take the visitor of the customer's first attributed payment (see db::import).
CREATE INDEX payments_by_customer ON payments(website_id, customer_id) WHERE customer_id IS NOT NULL;

CREATE TABLE stripe_sync (
    website_id   TEXT PRIMARY KEY REFERENCES websites(id) ON DELETE CASCADE,
    state        TEXT NOT NULL DEFAULT 'idle' CHECK (state IN ('idle', 'running', 'error')),
    -- Stripe refused the key (401/403): no automatic retry until a new key or a manual sync.
    halted       INTEGER NOT NULL DEFAULT 0,
    stage        TEXT,          -- the list being read while running
    started_at   TEXT,
    last_sync_at TEXT,          -- when the last complete sync finished
    last_error   TEXT,
    imported     INTEGER NOT NULL DEFAULT 0  -- payments the import created (kept across reconnects)
);

CREATE TABLE stripe_sync_streams (
    website_id   TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    stream       TEXT NOT NULL,
    high_water   INTEGER,       -- unix time at which the last complete pass began
    pass_low     INTEGER,       -- the pass under way: its created[gt] bound,
    pass_cursor  TEXT,          -- the starting_after of its next page,
    pass_started INTEGER,       -- when it began,
    seen_min     INTEGER,       -- and the oldest `created` it has read (progress)
    PRIMARY KEY (website_id, stream)
) WITHOUT ROWID;

-- Checkout sessions carrying datafast ids, by the payment intent or invoice they were paid with.
CREATE TABLE stripe_checkout_refs (
    website_id TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    ref        TEXT NOT NULL,
    visitor_id TEXT,
    session_id TEXT,
    PRIMARY KEY (website_id, ref)
) WITHOUT ROWID;

-- Invoices, by the charge or payment intent that paid them.
CREATE TABLE stripe_invoice_refs (
    website_id     TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    payer          TEXT NOT NULL,
    invoice_id     TEXT NOT NULL,
    billing_reason TEXT NOT NULL,
    PRIMARY KEY (website_id, payer)
) WITHOUT ROWID;
