//! `/websites/{id}/mrr`: MRR, ARR, churn and the monthly movements of the website's subscriptions (imported from
//! Stripe when the key may list them), in the website's currency and time zone.

use rocket::form::Errors;
use rocket::{Route, State, get, routes};

use crate::api::doc::{Authenticated, WebsitePath, WebsiteScoped};
use crate::api::query::param;
use crate::api::{ApiResult, one};
use crate::auth::{AnalyticsRead, WebsiteAccess};
use crate::domain::WebsiteId;
use crate::domain::mrr::answer::Mrr;
use crate::service::{self, App};

pub fn routes() -> Vec<Route> {
    routes![get_mrr]
}

/// The figures now (rates over the last 30 days) and one entry per month: MRR at the month's end and how it
/// moved (new, expansion, contraction, churned, reactivated), subscribers, churn rates and ARPU. Money in minor
/// units of `currency`, rates in percent. Computed by Stripe's billing-analytics definitions (see the README).
#[utoipa::path(context_path = "/api/v1/admin", tag = "payments", security(("bearer" = [])),
    params(WebsitePath,
        ("start" = Option<String>, Query, example = "2025-07", pattern = "^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$",
            description = "first month (YYYY-MM, the website's time zone; a date picks its month); default: 11 months before `end`"),
        ("end" = Option<String>, Query, example = "2026-06", pattern = "^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$",
            description = "last month (YYYY-MM); default: the current month, which is also the latest allowed; at most 120 months in all")),
    responses((status = 200, description = "the figures now and per month", body = crate::api::Success<Mrr>),
        Authenticated, WebsiteScoped))]
#[get("/websites/<website_id>/mrr?<start>&<end>")]
pub async fn get_mrr(
    website_id: WebsiteId,
    access: WebsiteAccess<AnalyticsRead>,
    start: Option<Result<&str, Errors<'_>>>,
    end: Option<Result<&str, Errors<'_>>>,
    app: &State<App>,
) -> ApiResult<Mrr> {
    let start = param("start", start, "a month such as 2026-03")?;
    let end = param("end", end, "a month such as 2026-03")?;
    one(service::mrr::report(app, &website_id, access.role, start, end).await?)
}
