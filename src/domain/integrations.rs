//! What the API and the pages show of a website's payment providers: the connection (never its key) and
//! the state of its revenue import.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::reconciliation::Reconciliation;

/// The `stripe` entry of `GET .../integrations`: never the key.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StripeStatus {
    pub connected: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub livemode: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_by: Option<String>,
    /// The revenue import: its state, phase and progress (also after a disconnect: imports stay).
    pub sync: SyncStatus,
    /// Why disputes are not imported (the key lacks `rak_dispute_read`); absent while they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disputes_unavailable: Option<String>,
    /// The last comparison of revlink's daily gross, refunds and fees with Stripe's balance transactions; `null`
    /// until one was asked for (daily, or `POST …/integrations/stripe/reconcile`).
    pub reconciliation: Option<Reconciliation>,
}

/// The import as `GET …/integrations/stripe` shows it.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// `idle`, `running` or `error`.
    pub state: String,
    /// `backfill` until the history back to `import_since_days` is read, then `incremental`.
    #[schema(value_type = String)]
    pub phase: &'static str,
    /// Payments imported from Stripe so far.
    pub imported: i64,
    /// Percent of the backfill's time window read (backfill only).
    pub progress: Option<u8>,
    /// The Stripe list being read while running.
    pub stage: Option<String>,
    /// When the current (or last) sync began.
    pub started_at: Option<String>,
    pub last_sync_at: Option<String>,
    pub last_error: Option<String>,
}
