//! The Dashboard: a website's visitors and the revenue they brought, on one page. Totals, a chart of visitors
//! and revenue per day (SVG drawn here), and tables by source, campaign, landing page, country and device, each
//! row with visitors, payments and revenue; a row's link filters the whole page. The Install section shows the
//! snippet until the first event arrives. Everything is server-rendered; `live` feeds the "visitors now" figure
//! and the install state to the page's script.

use chrono::{Days, NaiveDate};
use rocket::serde::json::Json;
use rocket::{Route, State, get, routes};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::{AnalyticsRead, QueryPairs};
use crate::domain::WebsiteId;
use crate::domain::analytics::{Dimension, UNKNOWN_VISITOR};
use crate::domain::website::WebsiteView;
use crate::error::Error;
use crate::service::analytics::{Breakdown, BreakdownRow};
use crate::service::{self, App};
use crate::web::revenue::{money, thousands};
use crate::web::{PageResult, SitePage};

pub fn routes() -> Vec<Route> {
    routes![dashboard, live]
}

/// The range presets, in the picker's order: (value, label, days back from today; `None`: all time).
const PRESETS: [(&str, &str, Option<u64>); 6] = [
    ("today", "Today", Some(0)),
    ("7d", "7 days", Some(6)),
    ("30d", "30 days", Some(29)),
    ("90d", "90 days", Some(89)),
    ("12mo", "12 months", Some(364)),
    ("all", "All time", None),
];

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

/// What the page was asked: a preset or two dates, and the filters (as the API spells them).
struct Asked {
    preset: String,
    start: Option<String>,
    end: Option<String>,
    filters: Vec<(String, String)>,
}

fn asked(pairs: &[(String, String)]) -> Asked {
    let get =
        |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty());
    let filters = pairs.iter().filter(|(k, _)| k.starts_with("filter_")).cloned().collect();
    let (start, end) = (get("start"), get("end"));
    let preset = match get("range") {
        Some(p) => p,
        None if start.is_some() || end.is_some() => "custom".to_owned(),
        None => "30d".to_owned(),
    };
    Asked { preset, start, end, filters }
}

/// The local dates `[first, last]` of the range (`None`: all time), or what is wrong with it.
fn dates(asked: &Asked, today: NaiveDate) -> Result<Option<(NaiveDate, NaiveDate)>, String> {
    if asked.preset == "custom" {
        let date = |raw: Option<&String>, name: &str| {
            raw.and_then(|r| NaiveDate::parse_from_str(r, "%Y-%m-%d").ok())
                .ok_or_else(|| format!("Pick a {name} date (such as {today})"))
        };
        let (first, last) = (date(asked.start.as_ref(), "start")?, date(asked.end.as_ref(), "end")?);
        if first > last {
            return Err("The start date must not be after the end date".into());
        }
        return Ok(Some((first, last)));
    }
    let (_, _, back) = PRESETS
        .iter()
        .find(|(value, _, _)| *value == asked.preset)
        .ok_or_else(|| format!("Unknown range {:?}: pick one of the presets or two dates", asked.preset))?;
    Ok(back.map(|days| (today.checked_sub_days(Days::new(days)).unwrap_or(today), today)))
}

/// The series' bucket for a range of `days`: days while a bar stays readable, then weeks, then months.
fn interval(days: Option<i64>) -> &'static str {
    match days {
        Some(d) if d <= 400 => "day",
        Some(d) if d <= 1500 => "week",
        _ => "month",
    }
}

/// The page's URL with `changes` applied to its query (a value of `None` removes the parameter).
fn link(website: &WebsiteId, pairs: &[(String, String)], changes: &[(&str, Option<&str>)]) -> String {
    let mut kept: Vec<(String, String)> =
        pairs.iter().filter(|(k, _)| !changes.iter().any(|(name, _)| name == k)).cloned().collect();
    for (name, value) in changes {
        if let Some(v) = value {
            kept.push(((*name).to_owned(), (*v).to_owned()));
        }
    }
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
    let base = format!("/websites/{website}/dashboard");
    if query.is_empty() { base } else { format!("{base}?{query}") }
}

const CHART_WIDTH: f64 = 720.0;
const CHART_HEIGHT: f64 = 200.0;

#[derive(Debug, Serialize)]
struct Bar {
    x: f64,
    width: f64,
    y: f64,
    height: f64,
    title: String,
}

/// The chart: revenue per bucket as bars, visitors as a line on their own scale, in SVG user units.
// Chart geometry: counts and amounts become SVG units, where a float's 52 bits are more than enough.
#[allow(clippy::cast_precision_loss)]
fn chart(rows: &[Value], currency: &str) -> Value {
    let revenue: Vec<f64> = rows.iter().map(|r| r["revenue"].as_f64().unwrap_or(0.0).max(0.0)).collect();
    let visitors: Vec<f64> = rows.iter().map(|r| r["visitors"].as_f64().unwrap_or(0.0)).collect();
    let max_revenue = revenue.iter().copied().fold(0.0, f64::max);
    let max_visitors = visitors.iter().copied().fold(0.0, f64::max);
    let slot = CHART_WIDTH / rows.len().max(1) as f64;
    let round = |v: f64| (v * 100.0).round() / 100.0;
    let scale = |v: f64, max: f64| if max > 0.0 { v * (CHART_HEIGHT - 10.0) / max } else { 0.0 };
    let bars: Vec<Bar> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let height = scale(revenue[i], max_revenue);
            Bar {
                x: round(i as f64 * slot + slot * 0.1),
                width: round(slot * 0.8),
                y: round(CHART_HEIGHT - height),
                height: round(height),
                title: format!(
                    "{}: {} visitor(s), {} revenue, {} payment(s)",
                    r["name"].as_str().unwrap_or_default(),
                    r["visitors"],
                    money_major(revenue[i], currency),
                    r["payments"]
                ),
            }
        })
        .collect();
    let line: Vec<String> = visitors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!("{},{}", round(i as f64 * slot + slot / 2.0), round(CHART_HEIGHT - scale(*v, max_visitors)))
        })
        .collect();
    let label = |i: usize| rows.get(i).and_then(|r| r["name"].as_str()).unwrap_or_default().to_owned();
    let last = rows.len().saturating_sub(1);
    json!({
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": bars, "line": line.join(" "),
        "max_revenue": money_major(max_revenue, currency), "max_visitors": max_visitors,
        "first": label(0), "middle": label(last / 2), "last": label(last),
    })
}

/// An amount in major units, shown like the Revenue page's.
#[allow(clippy::cast_possible_truncation)] // major units × 10^exponent of an answer that came from minor units
fn money_major(major: f64, currency: &str) -> String {
    let exponent = iso_currency::Currency::from_code(currency).and_then(iso_currency::Currency::exponent).unwrap_or(2);
    money((major * 10f64.powi(i32::from(exponent))).round() as i64, currency)
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
    let mut asked = asked(&query.0);
    let (range_error, range) = match dates(&asked, today) {
        Ok(range) => (None, range),
        Err(message) => {
            asked.preset = "30d".into();
            (Some(message), dates(&asked, today).ok().flatten())
        }
    };
    let mut pairs: Vec<(String, String)> = asked.filters.clone();
    if let Some((first, last)) = range {
        pairs.push(("startAt".into(), first.to_string()));
        pairs.push(("endAt".into(), last.to_string()));
    }
    let days = range.map(|(first, last)| (last - first).num_days() + 1);
    let mut series_pairs = pairs.clone();
    series_pairs.push(("interval".into(), interval(days).into()));
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
    let filters: Vec<Value> = asked
        .filters
        .iter()
        .map(|(name, value)| {
            json!({"name": name.trim_start_matches("filter_").replace('_', " "), "value": value.trim_start_matches("is:"),
                   "param": name, "raw": value, "remove": link(&website_id, &query.0, &[(name, None)])})
        })
        .collect();
    let presets: Vec<Value> = PRESETS
        .iter()
        .map(|(value, label, _)| {
            let href = link(&website_id, &query.0, &[("range", Some(value)), ("start", None), ("end", None)]);
            json!({"value": value, "label": label, "href": href, "current": asked.preset == *value})
        })
        .collect();
    let totals = &series.totals;
    // The series' totals are in major units, as the API answers them.
    let major = |key: &str| totals[key].as_f64().unwrap_or(0.0);
    let stats = json!({
        "visitors": thousands(totals["visitors"].as_u64().unwrap_or(0)), "sessions": totals["sessions"],
        "payments": thousands(totals["payments"].as_u64().unwrap_or(0)),
        "revenue": money_major(major("revenue"), &currency),
        "revenue_per_visitor": money_major(major("revenue_per_visitor"), &currency),
        "conversion_rate": totals["conversion_rate"], "bounce_rate": totals["bounce_rate"],
    });
    let script_src = format!("{}/js/script.js", app.base_url);
    let extra = json!({
        "stats": stats,
        "chart": chart(&series.rows, &currency),
        "series": series.rows,
        "interval": interval(days),
        "tables": tables,
        "filters": filters,
        "clear_filters": (!asked.filters.is_empty()).then(|| link(&website_id, &query.0, &asked.filters.iter().map(|(k, _)| (k.as_str(), None)).collect::<Vec<_>>())),
        "presets": presets,
        "custom": asked.preset == "custom",
        "start": asked.start.clone().or_else(|| range.map(|(f, _)| f.to_string())),
        "end": asked.end.clone().or_else(|| range.map(|(_, l)| l.to_string())),
        "range_label": range.map_or_else(|| "All time".to_owned(), |(f, l)| if f == l { f.to_string() } else { format!("{f} to {l}") }),
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

    fn pairs(q: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }

    #[test]
    fn presets_and_dates_make_the_range() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 21).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(dates(&asked(&pairs("")), today), Ok(Some((d("2026-04-22"), today))), "30 days by default");
        assert_eq!(dates(&asked(&pairs("range=7d")), today), Ok(Some((d("2026-05-15"), today))));
        assert_eq!(dates(&asked(&pairs("range=all")), today), Ok(None));
        assert_eq!(
            dates(&asked(&pairs("start=2026-01-01&end=2026-01-31")), today),
            Ok(Some((d("2026-01-01"), d("2026-01-31"))))
        );
        assert!(dates(&asked(&pairs("start=2026-02-01&end=2026-01-31")), today).unwrap_err().contains("not be after"));
        assert!(dates(&asked(&pairs("start=soon")), today).unwrap_err().contains("Pick a start date"));
        assert!(dates(&asked(&pairs("range=forever")), today).unwrap_err().contains("Unknown range"));
    }

    #[test]
    fn links_keep_the_query_and_change_one_parameter() {
        let site = WebsiteId::parse("665f0b3c4d2e1a0012345678").unwrap();
        let q = pairs("range=7d&filter_country=is:US");
        assert_eq!(
            link(&site, &q, &[("filter_country", None)]),
            "/websites/665f0b3c4d2e1a0012345678/dashboard?range=7d"
        );
        assert_eq!(
            link(&site, &q, &[("filter_device", Some("is:mobile"))]),
            "/websites/665f0b3c4d2e1a0012345678/dashboard?range=7d&filter_country=is%3AUS&filter_device=is%3Amobile"
        );
    }

    #[test]
    fn long_ranges_get_larger_buckets() {
        assert_eq!(
            (interval(Some(30)), interval(Some(365)), interval(Some(800)), interval(None)),
            ("day", "day", "week", "month")
        );
    }
}
