//! What the recorded payments come to: a page of them (newest first), and the revenue summary in the
//! website's currency and time zone.

use crate::db::{payments, rollups, websites};
use crate::domain::payment::{PaymentFilter, PaymentView};
use crate::domain::revenue::{self, DateRange, Revenue};
use crate::domain::{ObjectId, Role, WebsiteId};
use crate::error::Error;
use crate::service::App;

/// One page of payments, and the cursor of the next page while there is one.
pub struct PaymentsPage {
    pub payments: Vec<PaymentView>,
    pub next: Option<String>,
}

/// Newest first, `limit` (1–100, default 50) at a time; `cursor` is a previous page's `next`.
pub async fn payments(
    app: &App,
    website: &WebsiteId,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<PaymentsPage, Error> {
    payments_where(app, website, limit, cursor, PaymentFilter::default()).await
}

/// Like `payments`, only those `filter` keeps.
pub async fn payments_where(
    app: &App,
    website: &WebsiteId,
    limit: Option<u32>,
    cursor: Option<&str>,
    filter: PaymentFilter,
) -> Result<PaymentsPage, Error> {
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
    let site = website.id().clone();
    // One more than asked tells whether another page follows.
    let mut page = app.db.run(move |c| payments::list(c, &site, limit + 1, after.as_ref(), &filter)).await?;
    let next = (page.len() > limit as usize).then(|| {
        page.truncate(limit as usize);
        page.last().map(|p| p.id.to_string())
    });
    Ok(PaymentsPage { payments: page, next: next.flatten() })
}

/// The website's revenue over `start..=end` (local dates as `YYYY-MM-DD`; default the last 30 days).
pub async fn summary(
    app: &App,
    website: &WebsiteId,
    role: Role,
    start: Option<&str>,
    end: Option<&str>,
) -> Result<Revenue, Error> {
    let site = website.id().clone();
    let shown = app.db.run(move |c| websites::get(c, &site, role)).await?;
    let tz: chrono_tz::Tz = shown.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let range = DateRange::parse(start, end, tz, today).map_err(Error::BadRequest)?;
    let (from, to) = range.unix_bounds();
    let (site, currency) = (website.id().clone(), shown.currency.clone());
    let (buckets, all) = app.db.run(move |c| rollups::revenue_buckets(c, &site, &currency, from, to)).await?;
    Ok(revenue::summarize(&buckets, all, &range, &shown.currency))
}

/// The local date (in the website's zone) of the website's first payment, if it has any: where "all time" starts.
pub async fn first_day(app: &App, website: &WebsiteId, tz: chrono_tz::Tz) -> Result<Option<chrono::NaiveDate>, Error> {
    let site = website.id().clone();
    let first = app.db.run(move |c| payments::first_paid_at(c, &site)).await?;
    Ok(first.and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok()).map(|at| at.with_timezone(&tz).date_naive()))
}
