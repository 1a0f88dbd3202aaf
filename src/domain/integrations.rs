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
    /// Which optional Read permissions the connected key had when revlink last checked (at connect and at the
    /// start of every sync); all false when not connected.
    pub optional_permissions: OptionalPermissions,
    /// The revenue import: its state, phase and progress (also after a disconnect: imports stay).
    pub sync: SyncStatus,
    /// The optional webhook: whether a signing secret is set (never the secret), and where Stripe sends events.
    pub webhook: WebhookStatus,
    /// Why disputes are not imported (the key lacks `rak_dispute_read`); absent while they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disputes_unavailable: Option<String>,
    /// The last comparison of revlink's daily gross, refunds and fees with Stripe's balance transactions; `null`
    /// until one was asked for (daily, or `POST …/integrations/stripe/reconcile`).
    pub reconciliation: Option<Reconciliation>,
}

/// The `webhook` entry of the Stripe status: never the secret.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookStatus {
    /// Whether a signing secret is set: only then does revlink accept Stripe's events.
    pub configured: bool,
    /// The endpoint URL to give Stripe (from `public_url`).
    #[schema(example = "https://revlink.example.com/api/v1/webhooks/stripe/665f0b3c4d2e1a0012345678")]
    pub url: String,
    /// When the secret was set.
    pub set_at: Option<String>,
    /// When the last event with a valid signature arrived.
    pub last_event_at: Option<String>,
}

/// The optional Read permissions of a Stripe key, by what they let revlink import. Without one, what it adds is
/// not imported; nothing else changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptionalPermissions {
    /// `rak_subscription_read`: subscriptions (MRR, ARR, churn).
    pub subscriptions: bool,
    /// `rak_dispute_read`: disputes (lost ones subtract from net revenue).
    pub disputes: bool,
}

/// One of the `OptionalPermissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionalFeature {
    Subscriptions,
    Disputes,
}

impl OptionalPermissions {
    pub fn get(self, feature: OptionalFeature) -> bool {
        match feature {
            OptionalFeature::Subscriptions => self.subscriptions,
            OptionalFeature::Disputes => self.disputes,
        }
    }

    pub fn set(&mut self, feature: OptionalFeature, granted: bool) {
        match feature {
            OptionalFeature::Subscriptions => self.subscriptions = granted,
            OptionalFeature::Disputes => self.disputes = granted,
        }
    }
}

/// What a connect did to the revenue import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ImportStart {
    /// No import had run for the website: it starts.
    #[serde(rename = "started")]
    Started,
    /// A key of the same Stripe account: the imported payments and the import's position are kept, and it
    /// continues with what is new.
    #[serde(rename = "continued")]
    Continued,
    /// Another account (or one revlink could not recognise): the import starts over. Imported payments stay, and
    /// nothing is counted twice.
    #[serde(rename = "started over")]
    StartedOver,
}

/// An optional permission a connected key lacks, and what granting it would add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MissingPermission {
    #[schema(example = "rak_subscription_read")]
    pub permission: &'static str,
    #[schema(example = "subscriptions: MRR, ARR, churn and their movements")]
    pub adds: &'static str,
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
