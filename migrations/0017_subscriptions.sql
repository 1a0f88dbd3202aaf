-- Subscriptions and MRR (issue 12, point 3). The import reads Stripe's subscription list (`status=all`, every
-- sync) when the key has `rak_subscription_read`; MRR is computed from these rows by domain::mrr.
--
--  * subscriptions: each subscription as the import last read it. Times are Unix seconds, as Stripe gives them.
--    `plan` is what MRR depends on, as JSON (domain::mrr::plan):
--      {"items": [{"price", "unit_amount", "interval", "interval_count", "usage_type", "quantity"}],
--       "discounts": [{"coupon", "duration", "percent_off", "amount_off", "currency"}]}
--    Items and discounts are sorted, so an unchanged subscription reads back the same text.
--  * subscription_snapshots: the status and plan a subscription was seen in, one row per (subscription, month of
--    the import that saw it change): its first sight, then each change of status or plan (the state first seen is
--    also kept on the subscription). Past quantities and prices are exact from the day revlink began watching;
--    before that the state first seen is assumed. Start,
--    trial, cancellation and end come from the subscription's own dates and are exact whenever they were.
--  * subscription_sync: whether the website's key may list subscriptions (NULL: not asked yet), with Stripe's
--    reason when not, and a version bumped by every import that changed a subscription (the MRR cache's key).
--  * websites.revenue_metric: DataFast's field: the Dashboard's main revenue figure is the revenue of the range
--    (`revenue`) or the MRR now (`mrr`).

CREATE TABLE subscriptions (
    website_id           TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    id                   TEXT NOT NULL,
    customer_id          TEXT NOT NULL,
    currency             TEXT NOT NULL,
    status               TEXT NOT NULL,
    status_since         INTEGER,
    created              INTEGER NOT NULL,
    start_date           INTEGER,
    trial_start          INTEGER,
    trial_end            INTEGER,
    cancel_at            INTEGER,
    canceled_at          INTEGER,
    ended_at             INTEGER,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    current_period_start INTEGER,
    current_period_end   INTEGER,
    plan                 TEXT NOT NULL,
    -- The state it was first seen in (a later change in the same month replaces that month's snapshot).
    first_seen_at        INTEGER NOT NULL,
    first_status         TEXT NOT NULL,
    first_status_since   INTEGER,
    first_plan           TEXT NOT NULL,
    -- The start of the last complete or current pass over the list that saw it: one not seen by a whole pass is
    -- gone from Stripe (deleted with its customer) and is then recorded as canceled at that pass.
    seen_at              INTEGER NOT NULL,
    PRIMARY KEY (website_id, id)
) WITHOUT ROWID;
CREATE INDEX subscriptions_by_customer ON subscriptions(website_id, customer_id);

CREATE TABLE subscription_snapshots (
    website_id      TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    month           TEXT NOT NULL,
    observed_at     INTEGER NOT NULL,
    status          TEXT NOT NULL,
    status_since    INTEGER,
    plan            TEXT NOT NULL,
    PRIMARY KEY (website_id, subscription_id, month),
    FOREIGN KEY (website_id, subscription_id) REFERENCES subscriptions(website_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE subscription_sync (
    website_id TEXT PRIMARY KEY REFERENCES websites(id) ON DELETE CASCADE,
    available  INTEGER,
    reason     TEXT,
    checked_at INTEGER,
    version    INTEGER NOT NULL DEFAULT 0
);

ALTER TABLE websites ADD COLUMN revenue_metric TEXT NOT NULL DEFAULT 'revenue'
    CHECK (revenue_metric IN ('revenue', 'mrr'));
