//! Payments: what a provider or the Payments API reports, and what the API shows.

use crate::domain::ObjectId;
use crate::domain::dispute::DisputeView;

/// A payment as the Payments API (or, later, the Stripe import) reports it.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub transaction_id: String,
    pub amount: i64,
    pub currency: String,
    pub refunded_amount: i64,
    /// Stripe reports a dispute on the charge (imports only).
    pub disputed: bool,
    /// The settlement in the account currency, with Stripe's fee (imports only).
    pub settled: Option<Settlement>,
    pub renewal: bool,
    pub free_trial: bool,
    pub visitor_id: Option<String>,
    pub session_id: Option<String>,
    pub customer_id: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub paid_at: String,
}

/// What a payment came to in the account's own currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub amount: i64,
    pub currency: String,
    pub fee: i64,
}

/// Whether a payment was new or its transaction id was already recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

/// What a delete request names.
pub enum Selection {
    Transaction(String),
    /// A visitor's payments, optionally only those paid in `[start, end]`.
    Visitor(String, Option<(String, String)>),
    Range(String, String),
}

/// Which payments a list shows: one kind, paid within `[from, to)` (stored-time strings; open when `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    pub kind: PaymentKind,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A kind of payment a list can be narrowed to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PaymentKind {
    #[default]
    All,
    New,
    Renewal,
    Refunded,
    Attributed,
    Unattributed,
    Disputed,
}

impl PaymentKind {
    pub const ALL: [Self; 7] =
        [Self::All, Self::New, Self::Renewal, Self::Refunded, Self::Disputed, Self::Attributed, Self::Unattributed];

    pub fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::New => "new",
            Self::Renewal => "renewal",
            Self::Refunded => "refunded",
            Self::Attributed => "attributed",
            Self::Unattributed => "unattributed",
            Self::Disputed => "disputed",
        }
    }

    /// What a person picks it as.
    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All",
            Self::New => "New",
            Self::Renewal => "Renewals",
            Self::Refunded => "Refunded",
            Self::Attributed => "Attributed to a visitor",
            Self::Unattributed => "Not attributed",
            Self::Disputed => "Disputed",
        }
    }

    /// The kind named `raw`; anything else is all payments.
    pub fn parse(raw: Option<&str>) -> Self {
        Self::ALL.into_iter().find(|k| Some(k.name()) == raw).unwrap_or_default()
    }
}

/// A payment as the API shows it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    #[serde(rename = "_id")]
    #[schema(value_type = String)]
    pub id: ObjectId,
    pub source: String,
    pub transaction_id: String,
    pub amount: i64,
    pub currency: String,
    pub refunded_amount: i64,
    /// Stripe reports a dispute on the charge.
    pub disputed: bool,
    /// The payment's dispute, once the import read it (`null` when none, or disputes are not imported).
    pub dispute: Option<DisputeView>,
    pub settled_amount: Option<i64>,
    pub settled_currency: Option<String>,
    pub fee: Option<i64>,
    pub renewal: bool,
    pub free_trial: bool,
    pub visitor_id: Option<String>,
    pub session_id: Option<String>,
    pub customer_id: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub paid_at: String,
}
