//! `/websites/{id}/payments` (the recorded payments, newest first) and `/websites/{id}/revenue`
//! (totals and a daily series in the website's currency and time zone).

use rocket::http::Header;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{Request, Route, State, get, routes};

use crate::api::{ApiResult, Success, one};
use crate::auth::{AnalyticsRead, PaymentsRead, WebsiteAccess};
use crate::db::payments::{self, PaymentView};
use crate::db::websites;
use crate::domain::revenue::{self, DateRange, Revenue};
use crate::domain::{ObjectId, Role};
use crate::error::Error;
use crate::state::AppState;

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
    responses((status = 200, body = Success<PaymentView>, headers(("X-Next-Cursor" = String, description = "the next page's cursor")))))]
#[get("/websites/<website_id>/payments?<limit>&<cursor>")]
pub async fn list_payments(
    website_id: &str,
    access: WebsiteAccess<PaymentsRead>,
    limit: Option<u32>,
    cursor: Option<&str>,
    state: &State<AppState>,
) -> Result<PaymentsPage, Error> {
    let _ = website_id;
    let limit = limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(Error::BadRequest("limit must be between 1 and 100".into()));
    }
    let after = cursor
        .map(|c| {
            ObjectId::parse(c)
                .ok_or_else(|| Error::BadRequest("Invalid cursor: pass back X-Next-Cursor as it came".into()))
        })
        .transpose()?;
    let site = access.website_id;
    // One more than asked tells whether another page follows.
    let mut page = state.db.run(move |c| payments::list(c, &site, limit + 1, after.as_ref())).await?;
    let next = (page.len() > limit as usize).then(|| {
        page.truncate(limit as usize);
        page.last().map(|p| p.id.to_string())
    });
    Ok(PaymentsPage { body: Success { status: "success", data: page }, next: next.flatten() })
}

/// Gross, refunds, net, new versus renewal, attributed versus not, and one entry per day.
#[utoipa::path(context_path = "/api/v1/admin", tag = "payments", security(("bearer" = [])),
    responses((status = 200, body = Success<Revenue>)))]
#[get("/websites/<website_id>/revenue?<start>&<end>")]
pub async fn get_revenue(
    website_id: &str,
    access: WebsiteAccess<AnalyticsRead>,
    start: Option<&str>,
    end: Option<&str>,
    state: &State<AppState>,
) -> ApiResult<Revenue> {
    let _ = website_id;
    one(revenue_for(state, access.website_id, access.role, start, end).await?)
}

/// The website's revenue over `start..=end` (local dates; default the last 30 days).
pub async fn revenue_for(
    state: &AppState,
    site: ObjectId,
    role: Role,
    start: Option<&str>,
    end: Option<&str>,
) -> Result<Revenue, Error> {
    let s = site.clone();
    let website = state.db.run(move |c| websites::get(c, &s, role)).await?;
    let tz: chrono_tz::Tz = website.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let range = DateRange::parse(start, end, tz, today).map_err(Error::BadRequest)?;
    let (from, to) = range.utc_bounds();
    let currency = website.currency.clone();
    let rows = state.db.run(move |c| payments::revenue_rows(c, &site, &currency, &from, &to)).await?;
    Ok(revenue::summarize(&rows, &range, &website.currency))
}
