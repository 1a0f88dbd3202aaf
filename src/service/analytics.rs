//! The Website analytics API's use cases (contract §5), for the API and the Dashboard alike: the overview, the
//! series, the breakdowns by acquisition, goals, realtime visitors, one visitor, and the server-side goal and
//! identify writes. Revenue here follows the revenue summary's rule, so the two agree for the same range.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::db::analytics::{self as reports, Group, Report, Scope};
use crate::db::websites;
use crate::domain::analytics::{self, Interval, Overview, PaymentTotals, Period, ReportQuery, SeriesRow, VisitTotals};
use crate::domain::website::WebsiteView;
use crate::domain::{Role, WebsiteId};
use crate::error::Error;
use crate::service::App;

mod breakdown;
pub use breakdown::Breakdown;

/// A page of rows and where it sits in the whole list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    pub limit: u32,
    pub offset: u32,
    pub total: usize,
}

/// Rows of a list route, one page of them.
#[derive(Debug)]
pub struct Listed {
    pub rows: Vec<Value>,
    pub pagination: Pagination,
}

/// `GET analytics/timeseries`'s answer.
#[derive(Debug)]
pub struct Series {
    pub rows: Vec<Value>,
    pub fields: Vec<String>,
    pub interval: Interval,
    pub timezone: String,
    pub currency: String,
    pub totals: Value,
}

/// A website as the reports see it, and the query checked against its time zone.
struct Asked {
    site: WebsiteView,
    query: ReportQuery,
}

async fn asked(app: &App, website: &WebsiteId, role: Role, pairs: &[(String, String)]) -> Result<Asked, Error> {
    let id = website.id().clone();
    let site = app.db.run(move |c| websites::get(c, &id, role)).await?;
    let query = ReportQuery::parse(pairs, &site.timezone).map_err(Error::BadRequest)?;
    Ok(Asked { site, query })
}

/// What one report of a read found: its sessions' groups and its payments' groups.
type Found = (Vec<Group<VisitTotals>>, Vec<Group<PaymentTotals>>);

/// Sessions and payments of the period for each of `reports`, in one pass over each (see `db::analytics`). The
/// sessions are read in four slices of the period at once, beside the payments, on the pool's threads (one per
/// core): small slices keep the cores evenly busy, and the visitor rule lets slices be added up.
async fn read(app: &App, asked: &Asked, period: Period, reports: Vec<Report>) -> Result<Vec<Found>, Error> {
    let (website, currency, filters) =
        (asked.site.id.clone(), asked.site.currency.clone(), asked.query.filters.clone());
    // The slices split the time that has data: from the first activity when the period is all time.
    let first = if period.start_ms == Period::ALL_TIME.start_ms {
        let id = website.clone();
        app.db.run(move |c| reports::first_activity(c, &id)).await?
    } else {
        None
    };
    let now = chrono::Utc::now().timestamp_millis() + 1;
    let (lo, hi) = (period.start_ms.max(first.unwrap_or(period.start_ms)), period.end_ms.min(now));
    let cut = |quarter: i64| lo + (hi - lo).max(0) / 4 * quarter;
    let parts = [(period.start_ms, cut(1)), (cut(1), cut(2)), (cut(2), cut(3)), (cut(3), period.end_ms)];
    let (reports, filters) = (Arc::new(reports), Arc::new(filters));
    let visits = |part: (i64, i64)| {
        let (website, currency, filters, reports) =
            (website.clone(), currency.clone(), filters.clone(), reports.clone());
        app.db.run(move |c| {
            let scope = Scope { website: &website, currency: &currency, filters: &filters, period };
            reports::visits(c, &scope, &reports, part)
        })
    };
    let payments = {
        let (website, currency, filters, reports) =
            (website.clone(), currency.clone(), filters.clone(), reports.clone());
        app.db.run(move |c| {
            let scope = Scope { website: &website, currency: &currency, filters: &filters, period };
            reports::payments(c, &scope, &reports)
        })
    };
    let (payments, first, second, third, fourth) =
        tokio::try_join!(payments, visits(parts[0]), visits(parts[1]), visits(parts[2]), visits(parts[3]))?;
    Ok(first
        .into_iter()
        .zip(second)
        .zip(third)
        .zip(fourth)
        .zip(payments)
        .map(|((((a, b), c), d), paid)| (merge([a, b, c, d]), paid))
        .collect())
}

/// The one report of a read of one.
fn only(found: Vec<Found>) -> Result<Found, Error> {
    found.into_iter().next().ok_or_else(|| Error::internal("a report read answered no report"))
}

/// The groups of the slices of a period, added up: sorted by bucket and values, each run of equal ones is one group.
fn merge(slices: [Vec<Group<VisitTotals>>; 4]) -> Vec<Group<VisitTotals>> {
    let mut all: Vec<Group<VisitTotals>> = slices.into_iter().flatten().collect();
    all.sort_unstable_by(|a, b| (a.bucket, &a.key).cmp(&(b.bucket, &b.key)));
    let mut merged: Vec<Group<VisitTotals>> = Vec::with_capacity(all.len());
    for group in all {
        match merged.last_mut() {
            Some(last) if last.bucket == group.bucket && last.key == group.key => last.totals.add(group.totals),
            _ => merged.push(group),
        }
    }
    merged
}

/// Keeps the listed fields of each row (all when `fields` is not given); an unknown field is a 400.
fn select(rows: Vec<Value>, fields: Option<&[String]>, known: &[&str], always: &[&str]) -> Result<Vec<Value>, Error> {
    let Some(fields) = fields else { return Ok(rows) };
    if let Some(unknown) = fields.iter().find(|f| !known.contains(&f.as_str())) {
        return Err(Error::BadRequest(format!("Unknown field {unknown}: fields may list {}", known.join(", "))));
    }
    Ok(rows
        .into_iter()
        .map(|row| match row {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(k, _)| always.contains(&k.as_str()) || fields.iter().any(|f| f == k))
                    .collect(),
            ),
            other => other,
        })
        .collect())
}

/// The sums of every group of `bucket`.
fn sum<T: Copy + Default>(groups: &[Group<T>], bucket: usize, add: fn(&mut T, T)) -> T {
    groups.iter().filter(|g| g.bucket == bucket).fold(T::default(), |mut total, g| {
        add(&mut total, g.totals);
        total
    })
}

fn sum_visits(groups: &[Group<VisitTotals>], bucket: usize) -> VisitTotals {
    sum(groups, bucket, VisitTotals::add)
}

fn sum_payments(groups: &[Group<PaymentTotals>], bucket: usize) -> PaymentTotals {
    sum(groups, bucket, PaymentTotals::add)
}

/// The overview of a website over the query's range (all time without one).
pub async fn overview(
    app: &App,
    website: &WebsiteId,
    role: Role,
    pairs: &[(String, String)],
) -> Result<Overview, Error> {
    let asked = asked(app, website, role, pairs).await?;
    overview_of(app, &asked).await
}

async fn overview_of(app: &App, asked: &Asked) -> Result<Overview, Error> {
    let period = asked.query.period_or_all();
    let (visits, payments) = only(read(app, asked, period, vec![Report::default()]).await?)?;
    Ok(Overview::new(sum_visits(&visits, 0), sum_payments(&payments, 0), &asked.site.currency))
}

const SERIES_FIELDS: [&str; 6] = ["visitors", "sessions", "revenue", "payments", "revenueBreakdown", "conversion_rate"];

/// Visitors, sessions and revenue per hour, day, week or month of the range (all time: from the first visit or
/// payment), with the range's totals.
pub async fn timeseries(
    app: &App,
    website: &WebsiteId,
    role: Role,
    pairs: &[(String, String)],
) -> Result<Series, Error> {
    let asked = asked(app, website, role, pairs).await?;
    let (period, buckets, report) = series_report(app, &asked).await?;
    let (visits, payments) = only(read(app, &asked, period, vec![report]).await?)?;
    series_of(&asked, &buckets, &visits, &payments)
}

/// The series' period (all time: from the first visit or payment to now), its buckets, and the report that
/// reads them.
async fn series_report(app: &App, asked: &Asked) -> Result<(Period, Vec<analytics::Bucket>, Report), Error> {
    let period = match asked.query.period {
        Some(p) => p,
        None => {
            let id = asked.site.id.clone();
            let first = app.db.run(move |c| reports::first_activity(c, &id)).await?;
            let now = chrono::Utc::now().timestamp_millis();
            Period { start_ms: first.unwrap_or(now).min(now), end_ms: now + 1 }
        }
    };
    let buckets = analytics::buckets(period, asked.query.tz, asked.query.interval).map_err(Error::BadRequest)?;
    let ranges = buckets.iter().map(|b| (b.start_ms, b.end_ms)).collect();
    Ok((period, buckets, Report { buckets: ranges, group: Vec::new() }))
}

/// The series' rows and totals (its whole range, where each visitor counts once), from its report.
fn series_of(
    asked: &Asked,
    buckets: &[analytics::Bucket],
    visits: &[Group<VisitTotals>],
    payments: &[Group<PaymentTotals>],
) -> Result<Series, Error> {
    let currency = &asked.site.currency;
    let rows = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| to_value(SeriesRow::new(b, sum_visits(visits, i), sum_payments(payments, i), currency)))
        .collect::<Result<Vec<_>, _>>()?;
    let whole = buckets.len();
    let totals = to_value(Overview::new(sum_visits(visits, whole), sum_payments(payments, whole), currency))?;
    let fields = asked.query.fields.clone();
    let rows = select(rows, fields.as_deref(), &SERIES_FIELDS, &["name", "timestamp"])?;
    Ok(Series {
        rows,
        fields: fields.unwrap_or_else(|| SERIES_FIELDS.iter().map(|f| (*f).to_owned()).collect()),
        interval: asked.query.interval,
        timezone: asked.query.tz.name().to_owned(),
        currency: analytics::symbol(currency),
        totals,
    })
}

fn to_value<T: Serialize>(value: T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::internal(format!("a report row did not serialize: {e}")))
}

/// One breakdown row before it is shaped: its key, and what its visitors and payments came to.
#[derive(Debug, Clone, Default)]
pub struct BreakdownRow {
    pub key: Vec<Option<String>>,
    pub unknown_visitor: bool,
    pub visits: VisitTotals,
    pub paid: PaymentTotals,
}

/// The rows of a breakdown over the range, sorted by visitors then revenue (most first), all of them.
async fn breakdown_rows(app: &App, asked: &Asked, breakdown: Breakdown) -> Result<Vec<BreakdownRow>, Error> {
    let period = asked.query.period_or_all();
    let (visits, payments) = only(read(app, asked, period, vec![breakdown.report()]).await?)?;
    Ok(rows_of(visits, payments))
}

/// A breakdown's rows from its report's groups (all in its whole-period bucket), sorted by visitors then revenue.
fn rows_of(visits: Vec<Group<VisitTotals>>, payments: Vec<Group<PaymentTotals>>) -> Vec<BreakdownRow> {
    let mut rows: HashMap<(Vec<Option<String>>, bool), BreakdownRow> = HashMap::new();
    for g in visits {
        let row =
            rows.entry((g.key.clone(), false)).or_insert_with(|| BreakdownRow { key: g.key, ..Default::default() });
        row.visits = g.totals;
    }
    for g in payments {
        let row = rows.entry((g.key.clone(), g.unknown_visitor)).or_insert_with(|| BreakdownRow {
            key: g.key,
            unknown_visitor: g.unknown_visitor,
            ..Default::default()
        });
        row.paid.add(g.totals);
    }
    let mut rows: Vec<BreakdownRow> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        (b.visits.visitors, b.paid.revenue())
            .cmp(&(a.visits.visitors, a.paid.revenue()))
            .then_with(|| a.unknown_visitor.cmp(&b.unknown_visitor))
            .then_with(|| a.key.cmp(&b.key))
    });
    rows
}

/// A breakdown as the API lists it: one page of rows with the label fields, visitors, revenue, payments.
pub async fn breakdown(
    app: &App,
    website: &WebsiteId,
    role: Role,
    pairs: &[(String, String)],
    breakdown: Breakdown,
) -> Result<Listed, Error> {
    let asked = asked(app, website, role, pairs).await?;
    let all = breakdown_rows(app, &asked, breakdown).await?;
    let currency = asked.site.currency.clone();
    let rows = page(
        &asked.query,
        all.len(),
        all.into_iter().map(|row| {
            let mut value = breakdown.label(&row.key, row.unknown_visitor);
            value.insert("visitors".into(), json!(row.visits.visitors));
            value.insert("revenue".into(), json!(analytics::major(row.paid.revenue(), &currency)));
            value.insert("payments".into(), json!(row.paid.payments));
            Value::Object(value)
        }),
    );
    let known = breakdown.fields();
    Ok(Listed { rows: select(rows.rows, asked.query.fields.as_deref(), &known, &[])?, pagination: rows.pagination })
}

/// What the Dashboard shows, read in one pass: the series (by the query's `interval`) with the range's totals, and
/// the first `max` rows of each breakdown, unshaped (the page formats them). The breakdowns cover the series'
/// range (all time: from the first visit or payment).
pub async fn dashboard(
    app: &App,
    website: &WebsiteId,
    role: Role,
    pairs: &[(String, String)],
    breakdowns: &[Breakdown],
    max: usize,
) -> Result<(Series, Vec<Vec<BreakdownRow>>), Error> {
    let asked = asked(app, website, role, pairs).await?;
    let (period, buckets, series) = series_report(app, &asked).await?;
    let reports = std::iter::once(series).chain(breakdowns.iter().map(|b| b.report())).collect();
    let mut found = read(app, &asked, period, reports).await?.into_iter();
    let (visits, payments) = found.next().ok_or_else(|| Error::internal("the dashboard's read answered no series"))?;
    let series = series_of(&asked, &buckets, &visits, &payments)?;
    let tables = found
        .map(|(visits, payments)| {
            let mut rows = rows_of(visits, payments);
            rows.truncate(max);
            rows
        })
        .collect();
    Ok((series, tables))
}

fn page(query: &ReportQuery, total: usize, rows: impl Iterator<Item = Value>) -> Listed {
    let rows = rows.skip(query.offset as usize).take(query.limit as usize).collect();
    Listed { rows, pagination: Pagination { limit: query.limit, offset: query.offset, total } }
}

/// Goals completed in the range: `{goal, completions, visitors}`, most completed first.
pub async fn goals(app: &App, website: &WebsiteId, role: Role, pairs: &[(String, String)]) -> Result<Listed, Error> {
    let asked = asked(app, website, role, pairs).await?;
    let (id, currency, filters, period) =
        (asked.site.id.clone(), asked.site.currency.clone(), asked.query.filters.clone(), asked.query.period_or_all());
    let goals = app
        .db
        .run(move |c| reports::goals(c, &Scope { website: &id, currency: &currency, filters: &filters, period }))
        .await?;
    let total = goals.len();
    let rows = goals
        .into_iter()
        .map(|(goal, completions, visitors)| json!({"goal": goal, "completions": completions, "visitors": visitors}));
    let listed = page(&asked.query, total, rows);
    Ok(Listed {
        rows: select(listed.rows, asked.query.fields.as_deref(), &["goal", "completions", "visitors"], &[])?,
        pagination: listed.pagination,
    })
}

/// Visitors with an event in the last 5 minutes.
pub async fn realtime(app: &App, website: &WebsiteId) -> Result<u64, Error> {
    let id = website.id().clone();
    let since = chrono::Utc::now().timestamp_millis() - 5 * 60 * 1000;
    app.db.run(move |c| reports::active_visitors(c, &id, since)).await
}

/// Whether the website has received its first event (the Install section's state).
pub async fn has_events(app: &App, website: &WebsiteId) -> Result<bool, Error> {
    let id = website.id().clone();
    app.db.run(move |c| reports::has_events(c, &id)).await
}

/// `GET analytics/metadata`'s row.
#[derive(Debug, Serialize, ToSchema)]
pub struct Metadata {
    pub domain: String,
    pub timezone: String,
    pub name: Option<String>,
    pub currency: String,
}

pub async fn metadata(app: &App, website: &WebsiteId, role: Role) -> Result<Metadata, Error> {
    let id = website.id().clone();
    let site = app.db.run(move |c| websites::get(c, &id, role)).await?;
    Ok(Metadata { domain: site.domain, timezone: site.timezone, name: site.name, currency: site.currency })
}
