//! Stripe's dispute object (API version `2026-02-25.clover`) and what a dispute takes from revenue.
//!
//! What is counted, per Stripe's own ledger: a dispute's `balance_transactions` are the funds Stripe withdrew when it
//! opened (`amount` negative, the dispute `fee`) and, when it was won, reinstated (`amount` positive, the fee
//! returned as a negative fee where Stripe returns it). Revenue loses the negated sum of their `net`, once the
//! dispute is decided: a **lost** dispute its amount and fee, a **won** one nothing when Stripe returned the fee
//! (the two transactions cancel) or the fee it kept. A dispute still open (its funds withheld, not yet lost),
//! an inquiry (`warning_…`, no funds move) and a `prevented` one count nothing. In the payment's own currency
//! (shown when the website's currency is not the settlement currency) a lost dispute counts its amount; its fee
//! exists only in the settlement currency.

use serde::Deserialize;

use super::ledger::{LedgerEntry, SourceRef};
use super::objects::{Expandable, HasId};
use crate::domain::dispute::NewDispute;

#[derive(Debug, Clone, Deserialize)]
pub struct Dispute {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    /// The disputed charge (an id, or the charge when expanded).
    pub charge: Option<Expandable<SourceRef>>,
    pub status: String,
    pub reason: Option<String>,
    pub created: i64,
    #[serde(default)]
    pub is_charge_refundable: bool,
    /// Zero, one or two: the funds withdrawn, and reinstated.
    #[serde(default)]
    pub balance_transactions: Vec<LedgerEntry>,
}

impl HasId for Dispute {
    fn id(&self) -> &str {
        &self.id
    }
}

/// The dispute as stored, with what it takes from revenue (see the module's comment); `None` without a charge.
pub fn new_dispute(d: &Dispute) -> Option<NewDispute> {
    let charge = d.charge.as_ref()?.id().to_owned();
    let decided = matches!(d.status.as_str(), "lost" | "won");
    let lost = d.status == "lost";
    let loss_settled = d.balance_transactions.first().map(|first| {
        let net: i64 = d.balance_transactions.iter().map(LedgerEntry::net).sum();
        (if decided { -net } else { 0 }, first.currency.to_ascii_uppercase())
    });
    Some(NewDispute {
        id: d.id.clone(),
        transaction_id: charge,
        amount: d.amount,
        currency: d.currency.to_ascii_uppercase(),
        status: d.status.clone(),
        reason: d.reason.clone(),
        created: d.created,
        charge_refundable: d.is_charge_refundable,
        loss: if lost { d.amount } else { 0 },
        loss_settled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn bt(amount: i64, fee: i64, category: &str) -> Value {
        json!({"id": format!("txn_{category}{amount}"), "object": "balance_transaction", "amount": amount,
               "available_on": 1_779_408_000, "created": 1_779_321_600, "currency": "eur", "description": null,
               "exchange_rate": null, "fee": fee, "fee_details": [], "net": amount - fee,
               "reporting_category": category, "source": "du_1", "status": "available", "type": "adjustment"})
    }

    fn dispute(status: &str, bts: Vec<Value>) -> Dispute {
        serde_json::from_value(json!({
            "id": "du_1PgcB7WZ01zgkW", "object": "dispute", "amount": 2900, "balance_transactions": bts,
            "charge": "ch_3PgafuB7WZ01zgkW0xYcQm1a", "created": 1_779_321_600, "currency": "usd",
            "evidence": {}, "evidence_details": {"due_by": 1_780_000_000, "has_evidence": false, "past_due": false,
            "submission_count": 0}, "is_charge_refundable": false, "livemode": false, "metadata": {},
            "payment_intent": "pi_3PgafuB7WZ01zgkW0cJv0xYz", "reason": "fraudulent", "status": status
        }))
        .unwrap()
    }

    #[test]
    fn a_lost_dispute_costs_its_amount_and_fee_a_won_one_what_stripe_kept() {
        let lost = new_dispute(&dispute("lost", vec![bt(-2641, 1500, "dispute")])).unwrap();
        assert_eq!((lost.loss, lost.loss_settled.clone()), (2900, Some((2641 + 1500, "EUR".into()))));
        assert_eq!((lost.transaction_id.as_str(), lost.currency.as_str()), ("ch_3PgafuB7WZ01zgkW0xYcQm1a", "USD"));

        let won = dispute("won", vec![bt(-2641, 1500, "dispute"), bt(2641, -1500, "dispute_reversal")]);
        assert_eq!(new_dispute(&won).unwrap().loss_settled, Some((0, "EUR".into())), "the fee was returned");
        let kept = dispute("won", vec![bt(-2641, 1500, "dispute"), bt(2641, 0, "dispute_reversal")]);
        assert_eq!(new_dispute(&kept).unwrap().loss_settled, Some((1500, "EUR".into())), "the fee Stripe kept");
        assert_eq!(new_dispute(&kept).unwrap().loss, 0);

        let open = new_dispute(&dispute("needs_response", vec![bt(-2641, 1500, "dispute")])).unwrap();
        assert_eq!((open.loss, open.loss_settled), (0, Some((0, "EUR".into()))), "withheld, not lost yet");
        let inquiry = new_dispute(&dispute("warning_needs_response", vec![])).unwrap();
        assert_eq!((inquiry.loss, inquiry.loss_settled), (0, None));
        let unlisted = new_dispute(&dispute("lost", vec![])).unwrap();
        assert_eq!((unlisted.loss, unlisted.loss_settled), (2900, None), "pro rata of the settlement, in the database");
    }
}
