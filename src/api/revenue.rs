//! `/websites/{id}/payments` (the recorded payments, newest first) and `/websites/{id}/revenue`
//! (totals and a daily series in the website's currency and time zone).

use rocket::http::Header;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{Request, Route, State, get, routes};

use rocket::form::Errors;

use crate::api::doc::{Authenticated, WebsitePath, WebsiteScoped};
use crate::api::query::param;
use crate::api::{ApiResult, Success, one};
use crate::auth::{AnalyticsRead, PaymentsRead, WebsiteAccess};
use crate::domain::WebsiteId;
use crate::domain::payment::PaymentView;
use crate::domain::revenue::Revenue;
use crate::error::Error;
use crate::service::{self, App};

pub fn routes() -> Vec<Route> {
    routes![list_payments, get_revenue]
}

/// A page of payments; `X-Next-Cursor` names the `cursor` of the next page while there is one.
pub struct PaymentsPage {
    body: Success<PaymentView>,
    next: Option<String>,
}

impl<'r> Responder<'r, 'static> for PaymentsPage {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = Json(self.body).respond_to(req)?;
        if let Some(next) = self.next {
            res.set_header(Header::new("X-Next-Cursor", next));
        }
        Ok(res)
    }
}

/// Newest first, `limit` (1–100, default 50) at a time; pass `X-Next-Cursor` back as `cursor`.
#[utoipa::path(context_path = "/api/v1/admin", tag = "payments", security(("bearer" = [])),
    params(WebsitePath,
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "page size, 1–100 (default 50)"),
        ("cursor" = Option<String>, Query, pattern = "^[0-9a-f]{24}$",
            description = "the `X-Next-Cursor` of the previous page, as it came")),
    responses((status = 200, description = "a page of payments, newest first", body = Success<PaymentView>,
        headers(("X-Next-Cursor" = String, description = "the next page's cursor, while there is one"))),
        Authenticated, WebsiteScoped))]
#[get("/websites/<website_id>/payments?<limit>&<cursor>")]
pub async fn list_payments(
    website_id: WebsiteId,
    _access: WebsiteAccess<PaymentsRead>,
    limit: Option<Result<u32, Errors<'_>>>,
    cursor: Option<Result<&str, Errors<'_>>>,
    app: &State<App>,
) -> Result<PaymentsPage, Error> {
    let limit = param("limit", limit, "a whole number from 1 to 100")?;
    let cursor = param("cursor", cursor, "the X-Next-Cursor of the previous page")?;
    let page = service::revenue::payments(app, &website_id, limit, cursor).await?;
    Ok(PaymentsPage { body: Success { status: "success", data: page.payments }, next: page.next })
}

/// Gross, refunds, net, new versus renewal, attributed versus not, and one entry per day.
#[utoipa::path(context_path = "/api/v1/admin", tag = "payments", security(("bearer" = [])),
    params(WebsitePath,
        ("start" = Option<String>, Query, format = Date, example = "2026-05-01",
            description = "first day (YYYY-MM-DD, the website's time zone); default: the 30 days ending at `end`"),
        ("end" = Option<String>, Query, format = Date, example = "2026-05-31",
            description = "last day (YYYY-MM-DD); default: today; the range spans at most 10 years (3,653 days)")),
    responses((status = 200, description = "the summary and one entry per day", body = Success<Revenue>), Authenticated,
        WebsiteScoped))]
#[get("/websites/<website_id>/revenue?<start>&<end>")]
pub async fn get_revenue(
    website_id: WebsiteId,
    access: WebsiteAccess<AnalyticsRead>,
    start: Option<Result<&str, Errors<'_>>>,
    end: Option<Result<&str, Errors<'_>>>,
    app: &State<App>,
) -> ApiResult<Revenue> {
    let start = param("start", start, "a date such as 2026-05-21")?;
    let end = param("end", end, "a date such as 2026-05-21")?;
    one(service::revenue::summary(app, &website_id, access.role, start, end).await?)
}
