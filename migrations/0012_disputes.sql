-- Disputes (chargebacks) imported from Stripe, and what they take from revenue.
--
-- What a dispute costs is decided at import (providers::stripe::dispute) and stored on its row: `loss` in the
-- disputed payment's own currency (a lost dispute's amount), `loss_settled` in the settlement currency (the negated
-- sum of its balance transactions' `net`: amount and fee for a lost dispute, the fee or nothing for a won one).
-- A payment carries its disputes' sums (`dispute_loss`, `dispute_loss_settled`) and the latest dispute's status and
-- amount; triggers keep them, so the rollups' rule stays the one of 0006: whatever changes a payment's
-- contributions goes through the payment's own triggers, in the same transaction. A payment's net is
-- gross − refunds − disputes.

CREATE TABLE stripe_disputes (
    website_id        TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    id                TEXT NOT NULL,
    charge_id         TEXT NOT NULL,
    amount            INTEGER NOT NULL,   -- minor units of `currency` (the charge's)
    currency          TEXT NOT NULL,
    status            TEXT NOT NULL,
    reason            TEXT,
    created           INTEGER NOT NULL,   -- unix seconds
    charge_refundable INTEGER NOT NULL DEFAULT 0,
    loss              INTEGER NOT NULL DEFAULT 0,
    loss_settled      INTEGER,            -- NULL: Stripe listed no balance transaction
    settled_currency  TEXT,
    PRIMARY KEY (website_id, id)
) WITHOUT ROWID;
CREATE INDEX stripe_disputes_by_charge ON stripe_disputes(website_id, charge_id);

ALTER TABLE payments ADD COLUMN dispute_status TEXT;
ALTER TABLE payments ADD COLUMN dispute_amount INTEGER;
ALTER TABLE payments ADD COLUMN dispute_loss INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN dispute_loss_settled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE revenue_rollups ADD COLUMN disputes INTEGER NOT NULL DEFAULT 0;
-- Stripe refused the dispute list (403): why, until a sync reads it again. Disputes are optional.
ALTER TABLE stripe_sync ADD COLUMN disputes_refused TEXT;

-- Inserting a payment's website and transaction id here brings its dispute columns up to date (nothing is stored
-- in the view itself): the one place that says how a payment's disputes add up. Without a settlement the settled
-- loss is nothing; a dispute without balance transactions counts its loss pro rata of the settlement.
CREATE VIEW dispute_refresh AS SELECT website_id, transaction_id FROM payments WHERE false;

CREATE TRIGGER dispute_refresh_apply INSTEAD OF INSERT ON dispute_refresh BEGIN
    UPDATE payments SET
        dispute_status = (SELECT d.status FROM stripe_disputes d
                          WHERE d.website_id = payments.website_id AND d.charge_id = payments.transaction_id
                          ORDER BY d.created DESC, d.id DESC LIMIT 1),
        dispute_amount = (SELECT d.amount FROM stripe_disputes d
                          WHERE d.website_id = payments.website_id AND d.charge_id = payments.transaction_id
                          ORDER BY d.created DESC, d.id DESC LIMIT 1),
        dispute_loss = (SELECT COALESCE(SUM(d.loss), 0) FROM stripe_disputes d
                        WHERE d.website_id = payments.website_id AND d.charge_id = payments.transaction_id),
        dispute_loss_settled = (SELECT COALESCE(SUM(CASE
                                    WHEN payments.settled_currency IS NULL THEN 0
                                    WHEN d.loss_settled IS NULL THEN
                                        CASE WHEN payments.amount > 0
                                             THEN d.loss * payments.settled_amount / payments.amount ELSE 0 END
                                    WHEN d.settled_currency = payments.settled_currency THEN d.loss_settled
                                    ELSE 0 END), 0)
                                FROM stripe_disputes d
                                WHERE d.website_id = payments.website_id AND d.charge_id = payments.transaction_id)
    WHERE website_id = NEW.website_id AND transaction_id = NEW.transaction_id AND source = 'stripe';
END;

CREATE TRIGGER stripe_disputes_added AFTER INSERT ON stripe_disputes BEGIN
    INSERT INTO dispute_refresh VALUES (NEW.website_id, NEW.charge_id);
END;

CREATE TRIGGER stripe_disputes_changed AFTER UPDATE ON stripe_disputes BEGIN
    INSERT INTO dispute_refresh VALUES (NEW.website_id, NEW.charge_id);
    INSERT INTO dispute_refresh SELECT OLD.website_id, OLD.charge_id
    WHERE OLD.charge_id <> NEW.charge_id OR OLD.website_id <> NEW.website_id;
END;

CREATE TRIGGER stripe_disputes_removed AFTER DELETE ON stripe_disputes BEGIN
    INSERT INTO dispute_refresh VALUES (OLD.website_id, OLD.charge_id);
END;

-- A payment imported after its dispute (or whose settlement changes) takes its dispute columns from the rows.
CREATE TRIGGER payments_dispute_link AFTER INSERT ON payments
WHEN NEW.source = 'stripe'
     AND EXISTS (SELECT 1 FROM stripe_disputes WHERE website_id = NEW.website_id AND charge_id = NEW.transaction_id)
BEGIN
    INSERT INTO dispute_refresh VALUES (NEW.website_id, NEW.transaction_id);
END;

CREATE TRIGGER payments_dispute_resettle AFTER UPDATE OF amount, settled_amount, settled_currency ON payments
WHEN NEW.source = 'stripe'
     AND EXISTS (SELECT 1 FROM stripe_disputes WHERE website_id = NEW.website_id AND charge_id = NEW.transaction_id)
BEGIN
    INSERT INTO dispute_refresh VALUES (NEW.website_id, NEW.transaction_id);
END;

-- The rollups' rule of 0006 with the disputes: (currency, gross, refunds, disputes) for each currency a payment
-- counts in, and ('', 0, 0, 0); its net is gross − refunds − disputes.
DROP TRIGGER payments_rollup_add;
DROP TRIGGER payments_rollup_remove;
DROP TRIGGER payments_rollup_change;
DROP TRIGGER rollup_changes_apply;
DROP VIEW rollup_changes;
DROP VIEW payment_contributions;

CREATE VIEW payment_contributions AS
    SELECT id, website_id, (unixepoch(paid_at) / 900) * 900 AS bucket, renewal, visitor_id IS NOT NULL AS attributed,
           settled_currency AS currency, settled_amount AS gross,
           CASE WHEN amount > 0 THEN refunded_amount * settled_amount / amount ELSE 0 END AS refunds,
           dispute_loss_settled AS disputes
    FROM payments WHERE settled_currency IS NOT NULL
    UNION ALL
    SELECT id, website_id, (unixepoch(paid_at) / 900) * 900, renewal, visitor_id IS NOT NULL,
           currency, amount, refunded_amount, dispute_loss
    FROM payments WHERE settled_currency IS NULL OR settled_currency <> currency
    UNION ALL
    SELECT id, website_id, (unixepoch(paid_at) / 900) * 900, renewal, visitor_id IS NOT NULL, '', 0, 0, 0
    FROM payments;

CREATE VIEW rollup_changes AS
    SELECT 0 AS sign, website_id, paid_at, amount, currency, refunded_amount, settled_amount, settled_currency,
           renewal, visitor_id, dispute_loss, dispute_loss_settled
    FROM payments WHERE false;

CREATE TRIGGER rollup_changes_apply INSTEAD OF INSERT ON rollup_changes BEGIN
    INSERT INTO revenue_rollups (website_id, bucket, currency, gross, refunds, disputes, payments, renewal_net,
                                 renewal_payments, attributed_net, attributed_payments)
    SELECT NEW.website_id, (unixepoch(NEW.paid_at) / 900) * 900, c.currency, NEW.sign * c.gross,
           NEW.sign * c.refunds, NEW.sign * c.disputes, NEW.sign,
           NEW.sign * NEW.renewal * (c.gross - c.refunds - c.disputes), NEW.sign * NEW.renewal,
           NEW.sign * (NEW.visitor_id IS NOT NULL) * (c.gross - c.refunds - c.disputes),
           NEW.sign * (NEW.visitor_id IS NOT NULL)
    FROM (SELECT NEW.settled_currency AS currency, NEW.settled_amount AS gross,
                 CASE WHEN NEW.amount > 0 THEN NEW.refunded_amount * NEW.settled_amount / NEW.amount ELSE 0 END
                     AS refunds,
                 NEW.dispute_loss_settled AS disputes
          WHERE NEW.settled_currency IS NOT NULL
          UNION ALL
          SELECT NEW.currency, NEW.amount, NEW.refunded_amount, NEW.dispute_loss
          WHERE NEW.settled_currency IS NULL OR NEW.settled_currency <> NEW.currency
          UNION ALL
          SELECT '', 0, 0, 0) AS c
    WHERE true
    ON CONFLICT (website_id, bucket, currency) DO UPDATE SET
        gross = gross + excluded.gross, refunds = refunds + excluded.refunds, disputes = disputes + excluded.disputes,
        payments = payments + excluded.payments,
        renewal_net = renewal_net + excluded.renewal_net, renewal_payments = renewal_payments + excluded.renewal_payments,
        attributed_net = attributed_net + excluded.attributed_net,
        attributed_payments = attributed_payments + excluded.attributed_payments;
    DELETE FROM revenue_rollups
    WHERE NEW.sign < 0 AND website_id = NEW.website_id AND bucket = (unixepoch(NEW.paid_at) / 900) * 900
      AND payments = 0;
END;

CREATE TRIGGER payments_rollup_add AFTER INSERT ON payments BEGIN
    INSERT INTO rollup_changes VALUES (1, NEW.website_id, NEW.paid_at, NEW.amount, NEW.currency, NEW.refunded_amount,
                                       NEW.settled_amount, NEW.settled_currency, NEW.renewal, NEW.visitor_id,
                                       NEW.dispute_loss, NEW.dispute_loss_settled);
END;

CREATE TRIGGER payments_rollup_remove AFTER DELETE ON payments BEGIN
    INSERT INTO rollup_changes VALUES (-1, OLD.website_id, OLD.paid_at, OLD.amount, OLD.currency, OLD.refunded_amount,
                                       OLD.settled_amount, OLD.settled_currency, OLD.renewal, OLD.visitor_id,
                                       OLD.dispute_loss, OLD.dispute_loss_settled);
END;

CREATE TRIGGER payments_rollup_change
AFTER UPDATE OF website_id, amount, currency, refunded_amount, settled_amount, settled_currency, renewal,
                visitor_id, paid_at, dispute_loss, dispute_loss_settled ON payments BEGIN
    INSERT INTO rollup_changes VALUES (-1, OLD.website_id, OLD.paid_at, OLD.amount, OLD.currency, OLD.refunded_amount,
                                       OLD.settled_amount, OLD.settled_currency, OLD.renewal, OLD.visitor_id,
                                       OLD.dispute_loss, OLD.dispute_loss_settled),
                                      (1, NEW.website_id, NEW.paid_at, NEW.amount, NEW.currency, NEW.refunded_amount,
                                       NEW.settled_amount, NEW.settled_currency, NEW.renewal, NEW.visitor_id,
                                       NEW.dispute_loss, NEW.dispute_loss_settled);
END;
