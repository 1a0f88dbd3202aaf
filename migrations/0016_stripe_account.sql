-- A new key of the same Stripe account continues the import instead of starting it over (issue 12). The account is
-- recognised by one of its charges (charge ids are unique across Stripe; only a key of the owning account can read
-- one): the newest charge the key listed when it was connected, or the first one the import stored after. Kept with
-- the sync state, which outlives a disconnect, and replaced whenever the import starts over for another account.
ALTER TABLE stripe_sync ADD COLUMN account_charge TEXT;

-- The optional Read permissions the connected key had when revlink last checked (at connect and at each sync).
-- Keys connected before this version are checked again at their next sync.
ALTER TABLE stripe_connections ADD COLUMN subscriptions_read INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stripe_connections ADD COLUMN disputes_read INTEGER NOT NULL DEFAULT 0;
