//! Disputes (chargebacks): what the import stores of one, with what it takes from revenue, and what a
//! payment shows of its dispute.

use serde::Serialize;
use utoipa::ToSchema;

/// A dispute as a provider reports it, with its cost already decided by the provider's rule
/// (`providers::stripe::dispute`): revenue loses `loss` in the disputed payment's own currency and `loss_settled`
/// in the settlement currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDispute {
    pub id: String,
    /// The disputed payment's transaction id (a Stripe charge id).
    pub transaction_id: String,
    /// Minor units of `currency`, the payment's currency.
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub reason: Option<String>,
    /// Unix seconds.
    pub created: i64,
    pub charge_refundable: bool,
    pub loss: i64,
    /// `(amount, currency)`; `None` when the provider listed no ledger entry for it (the loss then counts pro rata
    /// of the payment's settlement).
    pub loss_settled: Option<(i64, String)>,
}

/// A dispute still waiting for a decision (Stripe's statuses): the import reads disputes again back to the oldest
/// of these, however long ago it was opened.
pub fn is_open(status: &str) -> bool {
    matches!(status, "warning_needs_response" | "warning_under_review" | "needs_response" | "under_review")
}

/// A payment's dispute as the API shows it (the latest one, when there were several).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct DisputeView {
    /// Stripe's status: `warning_needs_response`, `warning_under_review`, `warning_closed`, `needs_response`,
    /// `under_review`, `won`, `lost` or `prevented`.
    pub status: String,
    /// The disputed amount, in minor units of the payment's currency.
    pub amount: i64,
}

impl DisputeView {
    /// What a page writes beside the amount: "dispute lost", "dispute won", "disputed (needs response)".
    pub fn label(&self) -> String {
        match self.status.as_str() {
            "lost" => "dispute lost".into(),
            "won" => "dispute won".into(),
            "prevented" => "dispute prevented".into(),
            "warning_closed" => "inquiry closed".into(),
            other => format!("disputed ({})", other.trim_start_matches("warning_").replace('_', " ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_disputes_and_labels() {
        assert!(is_open("needs_response") && is_open("warning_under_review"));
        assert!(!is_open("won") && !is_open("lost") && !is_open("warning_closed") && !is_open("prevented"));
        let view = |s: &str| DisputeView { status: s.into(), amount: 1000 };
        assert_eq!(view("lost").label(), "dispute lost");
        assert_eq!(view("won").label(), "dispute won");
        assert_eq!(view("warning_needs_response").label(), "disputed (needs response)");
        assert_eq!(view("under_review").label(), "disputed (under review)");
    }
}
