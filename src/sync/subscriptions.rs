//! The subscription list, an optional stream (like disputes): read whole (`status=all`, no date filter: a
//! subscription changes long after it was created) at every sync, each page stored with its cursor like the other
//! lists. A key without `rak_subscription_read` (403), or a server without the list (404, or 400 to its
//! parameters), is recorded as "subscriptions not available" and the sync carries on: an optional list never
//! fails an import.

use super::fetch::FetchError;
use crate::domain::ObjectId;
use crate::domain::mrr::NewSubscription;
use crate::providers::stripe::objects::List;
use crate::providers::stripe::objects::subscription::Subscription;

/// The subscriptions of one page, as stored, and the last id on it (the next page's cursor while there is one).
pub fn page(list: List<Subscription>) -> (Vec<NewSubscription>, Option<String>) {
    let next = list.next_cursor();
    (list.data.iter().map(Subscription::to_new).collect(), next)
}

/// Why Stripe would not list subscriptions, when this error means it will not (rather than a failure to retry).
pub fn refusal(e: &FetchError) -> Option<String> {
    match e {
        FetchError::Forbidden(permission) => {
            Some(format!("The key lacks the {} permission", permission.as_deref().unwrap_or("rak_subscription_read")))
        }
        FetchError::NotFound => Some("This Stripe server has no subscription list".into()),
        FetchError::Invalid(message) => {
            Some(format!("Stripe refused the subscription list: {}", message.as_deref().unwrap_or("400 Bad Request")))
        }
        FetchError::Stop(_) => None,
    }
}

/// Logs the refusal (never the key) for the website.
pub fn log_refusal(website: &ObjectId, reason: &str) {
    tracing::info!(%website, reason, "subscriptions are not available for this key; MRR is not computed");
}
