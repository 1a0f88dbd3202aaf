//! What `GET …/websites/{id}/mrr` answers: the figures now, per month and by source, and whether the key lets
//! revlink compute them.

use serde::Serialize;
use utoipa::ToSchema;

use super::report::{Current, MonthFigures, Unconverted};
use super::sources::SourceFigures;

/// Whether revlink can compute MRR for the website: the key's access to subscriptions, and how many it stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsState {
    /// `null` until an import asked Stripe; `false` when the key may not list subscriptions
    /// (`rak_subscription_read`): every figure is then 0.
    pub available: Option<bool>,
    /// Why not, when not.
    pub reason: Option<String>,
    /// Subscriptions imported, and how many of them are not canceled.
    pub imported: u64,
    pub live: u64,
}

/// `GET …/mrr`: the figures now, one entry per month of the range, in the website's currency (minor units) and zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Mrr {
    #[schema(example = "USD")]
    pub currency: String,
    #[schema(example = "2025-07")]
    pub start: String,
    #[schema(example = "2026-06")]
    pub end: String,
    pub current: Current,
    pub series: Vec<MonthFigures>,
    pub unconverted: Vec<Unconverted>,
    /// MRR now and new MRR in the range by each subscriber's first-touch source (see `sources`).
    pub by_source: Vec<SourceFigures>,
    pub subscriptions: SubscriptionsState,
}
