//! Stripe's ledger: balance transactions (`/v1/balance_transactions`, and the ones a dispute lists), and which of
//! them the reconciliation compares with revlink's payments. Pure: the worker fetches, this reads.

use serde::Deserialize;

use super::objects::{Expandable, HasId};

/// One balance transaction, in the balance (settlement) currency: `amount` is signed (a refund is negative),
/// `fee` is Stripe's, `net` is `amount − fee`.
#[derive(Debug, Clone, Deserialize)]
pub struct LedgerEntry {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub fee: i64,
    pub net: Option<i64>,
    pub currency: String,
    pub created: i64,
    #[serde(rename = "type")]
    pub kind: String,
    /// What moved the money: a charge (`ch_`, `py_`), a refund (`re_`, `pyr_`), a dispute (`du_`, `dp_`)…
    pub source: Option<Expandable<SourceRef>>,
}

/// The id of a balance transaction's source (an object when the list was asked to expand it).
#[derive(Debug, Clone, Deserialize)]
pub struct SourceRef {
    pub id: String,
}

impl HasId for SourceRef {
    fn id(&self) -> &str {
        &self.id
    }
}

/// What the reconciliation makes of a balance transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Movement {
    /// A payment (`charge`, or `payment` for other payment methods): its gross and fee, by the charge's id.
    Payment { charge: String, gross: i64, fee: i64 },
    /// Money going back for a payment (`refund`, `payment_refund`) or coming back from a failed refund
    /// (`refund_failure`, `payment_failure_refund`): `refunded` is positive for money going back. `source` is the
    /// refund, or the charge itself when Stripe names it.
    Refund { source: String, refunded: i64 },
    /// Anything else (payouts, disputes, transfers, fees of their own): not a figure the reconciliation compares.
    Other,
}

impl HasId for LedgerEntry {
    fn id(&self) -> &str {
        &self.id
    }
}

impl LedgerEntry {
    pub fn net(&self) -> i64 {
        self.net.unwrap_or(self.amount - self.fee)
    }

    pub fn movement(&self) -> Movement {
        let Some(source) = self.source.as_ref().map(|s| s.id().to_owned()) else { return Movement::Other };
        match self.kind.as_str() {
            "charge" | "payment" => Movement::Payment { charge: source, gross: self.amount, fee: self.fee },
            "refund" | "payment_refund" | "refund_failure" | "payment_failure_refund" => {
                Movement::Refund { source, refunded: -self.amount }
            }
            _ => Movement::Other,
        }
    }
}

/// Whether a source id names a charge rather than a refund.
pub fn is_charge_id(id: &str) -> bool {
    id.starts_with("ch_") || id.starts_with("py_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(v: serde_json::Value) -> LedgerEntry {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn charges_refunds_and_the_rest() {
        let charge = entry(json!({"id": "txn_1", "object": "balance_transaction", "amount": 2900, "available_on": 1,
            "created": 1_779_321_600, "currency": "usd", "description": null, "exchange_rate": null, "fee": 114,
            "fee_details": [], "net": 2786, "reporting_category": "charge", "source": "ch_1", "status": "available",
            "type": "charge"}));
        assert_eq!(charge.movement(), Movement::Payment { charge: "ch_1".into(), gross: 2900, fee: 114 });
        assert_eq!(charge.net(), 2786);
        let refund = entry(json!({"id": "txn_2", "amount": -500, "created": 1, "currency": "usd", "fee": 0,
            "net": -500, "source": {"id": "re_1", "object": "refund"}, "type": "refund"}));
        assert_eq!(refund.movement(), Movement::Refund { source: "re_1".into(), refunded: 500 });
        let failed = entry(json!({"id": "txn_3", "amount": 500, "created": 1, "currency": "usd", "fee": 0,
            "source": "re_1", "type": "refund_failure"}));
        assert_eq!(failed.movement(), Movement::Refund { source: "re_1".into(), refunded: -500 });
        let payout = entry(json!({"id": "txn_4", "amount": -9000, "created": 1, "currency": "usd", "fee": 0,
            "source": "po_1", "type": "payout"}));
        assert_eq!(payout.movement(), Movement::Other);
        assert!(is_charge_id("py_1") && !is_charge_id("pyr_1") && !is_charge_id("re_1"));
    }
}
