//! The Dashboard: a website's visitors and the revenue they brought, on one page. Totals, a chart of visitors
//! and revenue per day, week or month (`chart`), and tables by source, campaign, landing page, country and device, each
//! row with visitors, payments and revenue; a row's link filters the whole page. The Install section shows the
//! snippet until the first event arrives. Everything is server-rendered; `live` feeds the "visitors now" figure
//! and the install state to the page's script.

use chrono::NaiveDate;
use rocket::serde::json::Json;
use rocket::{Route, State, get, routes};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::{AnalyticsRead, QueryPairs};
use crate::domain::WebsiteId;
use crate::domain::analytics::{Dimension, UNKNOWN_VISITOR};
use crate::domain::website::{RevenueMetric, WebsiteView};
use crate::error::Error;
use crate::service::analytics::{Breakdown, BreakdownRow};
use crate::service::{self, App};
use crate::web::chart::{Bucket, Chart, Step, compact, draw};
use crate::web::range;
use crate::web::revenue::{money, thousands};
use crate::web::{PageResult, SitePage};

pub fn routes() -> Vec<Route> {
    routes![dashboard, live]
}

/// How many rows each table shows.
const TABLE_ROWS: usize = 10;

/// The tables: (title, breakdown, the dimension a row filters by, the column's heading).
const TABLES: [(&str, Breakdown, Dimension, &str); 5] = [
    ("Sources", Breakdown::Referrers, Dimension::Referrer, "Source"),
    ("Campaigns", Breakdown::Campaigns, Dimension::UtmCampaign, "Campaign"),
    ("Landing pages", Breakdown::Pages, Dimension::EntryPage, "Page"),
    ("Countries", Breakdown::Countries, Dimension::Country, "Country"),
    ("Devices", Breakdown::Devices, Dimension::Device, "Device"),
];

/// The Dashboard's URL with `changes` applied to its query.
fn link(website: &WebsiteId, pairs: &[(String, String)], changes: &[(&str, Option<&str>)]) -> String {
    range::link(&format!("/websites/{website}/dashboard"), pairs, changes)
}

/// The chart: revenue per bucket as bars, visitors as a line on their own scale.
fn chart(rows: &[Value], step: Step, currency: &str) -> Chart {
    let exponent = iso_currency::Currency::from_code(currency).and_then(iso_currency::Currency::exponent).unwrap_or(2);
    let unit = 10i64.pow(u32::from(exponent));
    let buckets: Vec<Bucket> = rows
        .iter()
        .filter_map(|r| {
            let name = r["name"].as_str()?;
            let start = NaiveDate::parse_from_str(name, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(&format!("{name}-01"), "%Y-%m-%d"))
                .ok()?;
            let revenue = minor(r["revenue"].as_f64().unwrap_or(0.0), unit);
            let visitors = r["visitors"].as_u64().unwrap_or(0);
            let payments = r["payments"].as_u64().unwrap_or(0);
            let figures = format!(
                "{} visitor{}, {} payment{}, {} revenue",
                thousands(visitors),
                plural(visitors),
                thousands(payments),
                plural(payments),
                money(revenue, currency)
            );
            Some(Bucket { start, bar: revenue, part: 0, line: Some(visitors), figures })
        })
        .collect();
    #[allow(clippy::cast_precision_loss)] // an axis label
    let y_label = |v: i64| compact(v as f64 / unit as f64);
    draw(&buckets, step, unit, y_label, thousands)
}

/// Major units (as the API answers) → minor units.
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)] // amounts that came from minor units
fn minor(major: f64, unit: i64) -> i64 {
    (major * unit as f64).round() as i64
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One table row as the template shows it.
fn table_row(
    website: &WebsiteId,
    site: &WebsiteView,
    pairs: &[(String, String)],
    (breakdown, dimension): (Breakdown, Dimension),
    row: &BreakdownRow,
) -> Value {
    // The value a row filters by: a campaign row by its utm_campaign (else its utm_source), a page row by its path
    // (and its host, shown before the path, when that is not the website's domain).
    let mut host_filter = None;
    let (value, shown) = if row.unknown_visitor {
        (None, UNKNOWN_VISITOR.to_owned())
    } else {
        match breakdown {
            Breakdown::Campaigns => {
                let value = |i: usize| row.key.get(i).cloned().flatten();
                let (source, campaign) = (value(0), value(2));
                let shown = match (&source, &campaign) {
                    (Some(s), Some(c)) => format!("{c} ({s})"),
                    (None, Some(c)) => c.clone(),
                    (Some(s), None) => format!("({s})"),
                    (None, None) => "No campaign".to_owned(),
                };
                (campaign, shown)
            }
            Breakdown::Pages => {
                let (host, path) = (row.key.first().cloned().flatten(), row.key.get(1).cloned().flatten());
                let shown = match &host {
                    Some(h) if *h != site.domain => {
                        host_filter = Some(format!("is:{h}"));
                        format!("{h}{}", path.as_deref().unwrap_or_default())
                    }
                    _ => path.clone().unwrap_or_default(),
                };
                (path, shown)
            }
            _ => {
                let v = row.key.first().cloned().flatten();
                (v.clone(), v.unwrap_or_else(|| "Unknown".to_owned()))
            }
        }
    };
    let filter = format!("filter_{}", dimension.name());
    let host = format!("filter_{}", Dimension::Hostname.name());
    let href = value.as_deref().map(|v| {
        let is = format!("is:{v}");
        let mut changes = vec![(filter.as_str(), Some(is.as_str()))];
        if let Some(h) = &host_filter {
            changes.push((host.as_str(), Some(h.as_str())));
        }
        link(website, pairs, &changes)
    });
    json!({
        "label": shown, "href": href, "visitors": thousands(row.visits.visitors),
        "payments": thousands(row.paid.payments), "revenue": money(row.paid.revenue(), &site.currency),
    })
}

/// In MRR mode (the website's `revenueMetric`), MRR now and ARR for the lead figure; and whether MRR mode is on
/// without the subscriptions to compute it.
async fn lead_mrr(app: &App, website: &WebsiteId, site: &WebsiteView) -> Result<(Option<Value>, bool), Error> {
    if site.revenue_metric != Some(RevenueMetric::Mrr) {
        return Ok((None, false));
    }
    let now = service::mrr::current(app, website, site).await?;
    let shown = now.map(|m| json!({"mrr": money(m.mrr, &site.currency), "arr": money(m.arr, &site.currency)}));
    let unavailable = shown.is_none();
    Ok((shown, unavailable))
}

#[get("/websites/<website_id>/dashboard")]
pub async fn dashboard(
    website_id: WebsiteId,
    page: SitePage<'_, AnalyticsRead>,
    query: QueryPairs,
    app: &State<App>,
) -> PageResult {
    let role = page.access.role;
    let site = service::websites::get(app, &website_id, role).await?;
    let tz: chrono_tz::Tz = site.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let mut asked = range::asked(&query.0);
    let filters: Vec<(String, String)> = query.0.iter().filter(|(k, _)| k.starts_with("filter_")).cloned().collect();
    let (range_error, range) = match range::dates(&asked, today) {
        Ok(range) => (None, range),
        Err(message) => {
            asked.preset = range::DEFAULT.into();
            (Some(message), range::dates(&asked, today).ok().flatten())
        }
    };
    let mut pairs: Vec<(String, String)> = filters.clone();
    if let Some((first, last)) = range {
        pairs.push(("startAt".into(), first.to_string()));
        pairs.push(("endAt".into(), last.to_string()));
    }
    let days = range.map(|(first, last)| (last - first).num_days() + 1);
    let mut series_pairs = pairs.clone();
    let step = Step::picked(range::param(&query.0, "by"), days.unwrap_or(i64::MAX));
    series_pairs.push(("interval".into(), step.name().into()));
    let (website, a) = (&website_id, app.inner());
    let breakdowns = TABLES.map(|(_, breakdown, _, _)| breakdown);
    let reports = tokio::try_join!(
        service::analytics::dashboard(a, website, role, &series_pairs, &breakdowns, TABLE_ROWS),
        service::analytics::realtime(a, website),
        service::analytics::has_events(a, website),
    );
    let ((series, tables), now, has_events) = match reports {
        Ok(r) => r,
        // A filter the service refuses (edited by hand): say so, and show the page without filters.
        Err(Error::BadRequest(message)) => {
            let to = link(&website_id, &[], &[]);
            return Err(Error::BadRequest(format!("{message}. Open {to} for the dashboard without filters")).into());
        }
        Err(e) => return Err(e.into()),
    };
    let currency = site.currency.clone();
    let tables: Vec<Value> = TABLES
        .iter()
        .zip(tables)
        .map(|((title, breakdown, dimension, heading), rows)| {
            let rows: Vec<Value> =
                rows.iter().map(|r| table_row(&website_id, &site, &query.0, (*breakdown, *dimension), r)).collect();
            json!({"title": title, "heading": heading, "rows": rows})
        })
        .collect();
    let shown_filters: Vec<Value> = filters
        .iter()
        .map(|(name, value)| {
            json!({"name": name.trim_start_matches("filter_").replace('_', " "), "value": value.trim_start_matches("is:"),
                   "param": name, "raw": value, "remove": link(&website_id, &query.0, &[(name, None)])})
        })
        .collect();
    let base = format!("/websites/{website_id}/dashboard");
    let steps: Vec<Value> = Step::ALL
        .iter()
        .map(|s| json!({"name": s.name(), "href": link(&website_id, &query.0, &[("by", Some(s.name()))]), "current": *s == step}))
        .collect();
    let totals = &series.totals;
    let exponent = iso_currency::Currency::from_code(&currency).and_then(iso_currency::Currency::exponent).unwrap_or(2);
    let unit = 10i64.pow(u32::from(exponent));
    // The series' totals are in major units, as the API answers them.
    let major = |key: &str| totals[key].as_f64().unwrap_or(0.0);
    let stats = json!({
        "visitors": thousands(totals["visitors"].as_u64().unwrap_or(0)), "sessions": totals["sessions"],
        "payments": thousands(totals["payments"].as_u64().unwrap_or(0)),
        "revenue": money(minor(major("revenue"), unit), &currency),
        "revenue_per_visitor": money(minor(major("revenue_per_visitor"), unit), &currency),
        "conversion_rate": totals["conversion_rate"], "bounce_rate": totals["bounce_rate"],
    });
    let (mrr, mrr_unavailable) = lead_mrr(app, &website_id, &site).await?;
    let script_src = format!("{}/js/script.js", app.base_url);
    let extra = json!({
        "mrr": mrr,
        "mrr_unavailable": mrr_unavailable,
        "stats": stats,
        "chart": chart(&series.rows, step, &currency),
        "series": series.rows,
        "interval": step.name(),
        "steps": steps,
        "tables": tables,
        "filters": shown_filters,
        "clear_filters": (!filters.is_empty()).then(|| link(&website_id, &query.0, &filters.iter().map(|(k, _)| (k.as_str(), None)).collect::<Vec<_>>())),
        "presets": range::presets(&base, &query.0, &asked.preset),
        "custom": asked.preset == "custom",
        "start": asked.start.clone().or_else(|| range.map(|(f, _)| f.to_string())),
        "end": asked.end.clone().or_else(|| range.map(|(_, l)| l.to_string())),
        "range_label": range::label(range),
        "range_error": range_error,
        "visitors_now": now,
        "has_events": has_events,
        "script_src": script_src,
        "events_url": format!("{}/api/events", app.base_url),
        "currency": currency,
    });
    page.render(app, &website_id, "dashboard.html", extra).await
}

/// What the page's script refreshes: visitors in the last 5 minutes, and whether any event has arrived.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Live {
    visitors_now: u64,
    has_events: bool,
}

#[get("/websites/<website_id>/dashboard/live")]
pub async fn live(
    website_id: WebsiteId,
    _page: SitePage<'_, AnalyticsRead>,
    app: &State<App>,
) -> PageResult<Json<Live>> {
    let (visitors_now, has_events) = tokio::try_join!(
        service::analytics::realtime(app, &website_id),
        service::analytics::has_events(app, &website_id)
    )?;
    Ok(Json(Live { visitors_now, has_events }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_reads_the_series_names_of_every_interval_and_writes_figures() {
        let rows = vec![
            json!({"name": "2026-05", "visitors": 3, "payments": 1, "revenue": 12.5}),
            json!({"name": "2026-06-01", "visitors": 1, "payments": 0, "revenue": 0.0}),
            json!({"name": "garbage", "visitors": 9, "payments": 9, "revenue": 9.0}),
        ];
        let drawn = serde_json::to_value(chart(&rows, Step::Month, "USD")).unwrap();
        let bars = drawn["bars"].as_array().unwrap();
        assert_eq!(bars.len(), 2, "a row without a date is not drawn");
        assert_eq!(bars[0]["figures"], "3 visitors, 1 payment, 12.50 USD revenue");
        assert_eq!(bars[0]["label"], "May 2026");
        assert_eq!(drawn["y_labels"][0], "20", "12.50 USD under a top of 20");
    }
}
