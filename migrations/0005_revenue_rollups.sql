-- Revenue rollups: per website, currency and 15-minute UTC bucket (every time zone's midnight falls on a
-- quarter hour), the sums the revenue summary reports, so a summary of any range reads at most one row per
-- bucket instead of every payment. Triggers keep them in the same transaction as each payment write.
--
-- A payment counts in a currency C as the revenue summary does for a website whose currency is C: its
-- settled amount when it was settled in C, else its own amount when it is in C. So it contributes to its
-- settled currency (if any) and, unless that is its own, to its own currency. Every payment also counts
-- once under currency '' (the summary's count of payments in other currencies comes from it).

CREATE TABLE revenue_rollups (
    website_id          TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    currency            TEXT NOT NULL,
    bucket              INTEGER NOT NULL,   -- unix seconds at the start of the quarter hour (UTC)
    gross               INTEGER NOT NULL DEFAULT 0,
    refunds             INTEGER NOT NULL DEFAULT 0,
    payments            INTEGER NOT NULL DEFAULT 0,
    renewal_net         INTEGER NOT NULL DEFAULT 0,
    renewal_payments    INTEGER NOT NULL DEFAULT 0,
    attributed_net      INTEGER NOT NULL DEFAULT 0,
    attributed_payments INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (website_id, currency, bucket)
) WITHOUT ROWID;

-- One payment's contributions: (currency, gross, refunds) for each currency it counts in, and ('', 0, 0).
CREATE VIEW payment_contributions AS
    SELECT id, website_id, (unixepoch(paid_at) / 900) * 900 AS bucket, renewal, visitor_id IS NOT NULL AS attributed,
           settled_currency AS currency, settled_amount AS gross,
           CASE WHEN amount > 0 THEN refunded_amount * settled_amount / amount ELSE 0 END AS refunds
    FROM payments WHERE settled_currency IS NOT NULL
    UNION ALL
    SELECT id, website_id, (unixepoch(paid_at) / 900) * 900, renewal, visitor_id IS NOT NULL,
           currency, amount, refunded_amount
    FROM payments WHERE settled_currency IS NULL OR settled_currency <> currency
    UNION ALL
    SELECT id, website_id, (unixepoch(paid_at) / 900) * 900, renewal, visitor_id IS NOT NULL, '', 0, 0
    FROM payments;

CREATE TRIGGER payments_rollup_add AFTER INSERT ON payments BEGIN
    INSERT INTO revenue_rollups (website_id, currency, bucket, gross, refunds, payments, renewal_net,
                                 renewal_payments, attributed_net, attributed_payments)
    SELECT website_id, currency, bucket, gross, refunds, 1, renewal * (gross - refunds), renewal,
           attributed * (gross - refunds), attributed
    FROM payment_contributions WHERE id = NEW.id
    ON CONFLICT (website_id, currency, bucket) DO UPDATE SET
        gross = gross + excluded.gross, refunds = refunds + excluded.refunds, payments = payments + 1,
        renewal_net = renewal_net + excluded.renewal_net, renewal_payments = renewal_payments + excluded.renewal_payments,
        attributed_net = attributed_net + excluded.attributed_net,
        attributed_payments = attributed_payments + excluded.attributed_payments;
END;

-- A deleted payment's contributions are taken back (the view no longer sees it: they are computed from OLD).
CREATE TRIGGER payments_rollup_remove AFTER DELETE ON payments BEGIN
    UPDATE revenue_rollups SET
        gross = revenue_rollups.gross - c.gross, refunds = revenue_rollups.refunds - c.refunds,
        payments = revenue_rollups.payments - 1,
        renewal_net = revenue_rollups.renewal_net - OLD.renewal * (c.gross - c.refunds),
        renewal_payments = revenue_rollups.renewal_payments - OLD.renewal,
        attributed_net = revenue_rollups.attributed_net - (OLD.visitor_id IS NOT NULL) * (c.gross - c.refunds),
        attributed_payments = revenue_rollups.attributed_payments - (OLD.visitor_id IS NOT NULL)
    FROM (SELECT OLD.settled_currency AS currency, OLD.settled_amount AS gross,
                 CASE WHEN OLD.amount > 0 THEN OLD.refunded_amount * OLD.settled_amount / OLD.amount ELSE 0 END AS refunds
          WHERE OLD.settled_currency IS NOT NULL
          UNION ALL
          SELECT OLD.currency, OLD.amount, OLD.refunded_amount
          WHERE OLD.settled_currency IS NULL OR OLD.settled_currency <> OLD.currency
          UNION ALL
          SELECT '', 0, 0) AS c
    WHERE revenue_rollups.website_id = OLD.website_id AND revenue_rollups.currency = c.currency
      AND revenue_rollups.bucket = (unixepoch(OLD.paid_at) / 900) * 900;
    DELETE FROM revenue_rollups
    WHERE website_id = OLD.website_id AND bucket = (unixepoch(OLD.paid_at) / 900) * 900 AND payments = 0;
END;

-- A changed payment (a refund, a settlement, attribution found later): out with the old, in with the new.
CREATE TRIGGER payments_rollup_change
AFTER UPDATE OF website_id, amount, currency, refunded_amount, settled_amount, settled_currency, renewal,
                visitor_id, paid_at ON payments BEGIN
    UPDATE revenue_rollups SET
        gross = revenue_rollups.gross - c.gross, refunds = revenue_rollups.refunds - c.refunds,
        payments = revenue_rollups.payments - 1,
        renewal_net = revenue_rollups.renewal_net - OLD.renewal * (c.gross - c.refunds),
        renewal_payments = revenue_rollups.renewal_payments - OLD.renewal,
        attributed_net = revenue_rollups.attributed_net - (OLD.visitor_id IS NOT NULL) * (c.gross - c.refunds),
        attributed_payments = revenue_rollups.attributed_payments - (OLD.visitor_id IS NOT NULL)
    FROM (SELECT OLD.settled_currency AS currency, OLD.settled_amount AS gross,
                 CASE WHEN OLD.amount > 0 THEN OLD.refunded_amount * OLD.settled_amount / OLD.amount ELSE 0 END AS refunds
          WHERE OLD.settled_currency IS NOT NULL
          UNION ALL
          SELECT OLD.currency, OLD.amount, OLD.refunded_amount
          WHERE OLD.settled_currency IS NULL OR OLD.settled_currency <> OLD.currency
          UNION ALL
          SELECT '', 0, 0) AS c
    WHERE revenue_rollups.website_id = OLD.website_id AND revenue_rollups.currency = c.currency
      AND revenue_rollups.bucket = (unixepoch(OLD.paid_at) / 900) * 900;
    INSERT INTO revenue_rollups (website_id, currency, bucket, gross, refunds, payments, renewal_net,
                                 renewal_payments, attributed_net, attributed_payments)
    SELECT website_id, currency, bucket, gross, refunds, 1, renewal * (gross - refunds), renewal,
           attributed * (gross - refunds), attributed
    FROM payment_contributions WHERE id = NEW.id
    ON CONFLICT (website_id, currency, bucket) DO UPDATE SET
        gross = gross + excluded.gross, refunds = refunds + excluded.refunds, payments = payments + 1,
        renewal_net = renewal_net + excluded.renewal_net, renewal_payments = renewal_payments + excluded.renewal_payments,
        attributed_net = attributed_net + excluded.attributed_net,
        attributed_payments = attributed_payments + excluded.attributed_payments;
    DELETE FROM revenue_rollups
    WHERE website_id = OLD.website_id AND bucket = (unixepoch(OLD.paid_at) / 900) * 900 AND payments = 0;
END;

-- The payments recorded before this migration.
INSERT INTO revenue_rollups (website_id, currency, bucket, gross, refunds, payments, renewal_net, renewal_payments,
                             attributed_net, attributed_payments)
SELECT website_id, currency, bucket, SUM(gross), SUM(refunds), COUNT(*), SUM(renewal * (gross - refunds)),
       SUM(renewal), SUM(attributed * (gross - refunds)), SUM(attributed)
FROM payment_contributions GROUP BY website_id, currency, bucket;
