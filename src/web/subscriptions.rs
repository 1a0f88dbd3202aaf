//! The Subscriptions section of the Revenue page (`templates/subscriptions.html`): MRR now with ARR, subscribers,
//! ARPU and the 30-day churn rates, a chart of MRR at each month's end, and the table of each month's movements —
//! from `service::mrr`, which the API answers from too. When the Stripe key may not list subscriptions, the
//! section says what granting `rak_subscription_read` adds.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::domain::WebsiteId;
use crate::domain::mrr::answer::Mrr;
use crate::domain::mrr::report::{MAX_MONTHS, MonthFigures, YearMonth};
use crate::domain::website::WebsiteView;
use crate::error::Error;
use crate::service::{self, App};
use crate::web::chart::{self, Bucket, Step};
use crate::web::money::{amount, money, thousands};

/// At least this many months are shown, more when the page's range is longer.
const MIN_MONTHS: u32 = 12;

fn rate(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{r:.2} %"))
}

/// `+12.00`, `−3.00`, or `—` for nothing (the movements table's caption names the currency).
fn moved_amount(minor: i64, sign: char, currency: &str) -> String {
    if minor == 0 { "—".to_owned() } else { format!("{sign}{}", amount(minor, currency)) }
}

/// `+12.00 USD`, `−3.00 USD`, or `—` for nothing.
fn moved(minor: i64, sign: char, currency: &str) -> String {
    let shown = moved_amount(minor, sign, currency);
    if minor == 0 { shown } else { format!("{shown} {currency}") }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What a month's bar and table row say.
fn figures(m: &MonthFigures, currency: &str) -> String {
    let mut parts = vec![format!("{} MRR", money(m.mrr, currency))];
    for (amount, sign, what) in [
        (m.new, '+', "new"),
        (m.reactivated, '+', "reactivated"),
        (m.expansion, '+', "expansion"),
        (m.contraction, '−', "contraction"),
        (m.churned, '−', "churned"),
    ] {
        if amount != 0 {
            parts.push(format!("{} {what}", moved(amount, sign, currency)));
        }
    }
    parts.push(format!("{} subscriber{}", thousands(m.active_subscribers), plural(m.active_subscribers)));
    parts.join(", ")
}

fn month_start(label: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d").ok()
}

/// The section's context: the months from twelve before `last` (or the page's `first`, when earlier) to `last`'s.
pub async fn section(
    app: &App,
    website: &WebsiteId,
    site: &WebsiteView,
    (first, last): (NaiveDate, NaiveDate),
) -> Result<Value, Error> {
    let tz: chrono_tz::Tz = site.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let this_month = YearMonth::at(chrono::Utc::now().timestamp(), tz);
    let end = YearMonth::of(last).min(this_month);
    let start = YearMonth::of(first).min(end.minus(MIN_MONTHS - 1)).max(end.minus(MAX_MONTHS - 1));
    let report = service::mrr::report(app, website, site.role, Some(&start.label()), Some(&end.label())).await?;
    Ok(context(&report))
}

fn context(report: &Mrr) -> Value {
    let cur = &report.currency;
    let buckets: Vec<Bucket> = report
        .series
        .iter()
        .filter_map(|m| {
            let start = month_start(&m.month)?;
            Some(Bucket { start, bar: m.mrr, part: 0, line: None, figures: figures(m, cur) })
        })
        .collect();
    let unit = 10i64
        .pow(u32::from(iso_currency::Currency::from_code(cur).and_then(iso_currency::Currency::exponent).unwrap_or(2)));
    #[allow(clippy::cast_precision_loss)] // an axis label
    let chart = chart::draw(&buckets, Step::Month, unit, |v| chart::compact(v as f64 / unit as f64), |v| v.to_string());
    let rows: Vec<Value> = report
        .series
        .iter()
        .rev()
        .map(|m| {
            json!({
                "month": month_start(&m.month).map_or_else(|| m.month.clone(), |d| d.format("%b %Y").to_string()),
                "mrr": amount(m.mrr, cur), "new": moved_amount(m.new, '+', cur),
                "reactivated": moved_amount(m.reactivated, '+', cur), "expansion": moved_amount(m.expansion, '+', cur),
                "contraction": moved_amount(m.contraction, '−', cur), "churned": moved_amount(m.churned, '−', cur),
                "subscribers": thousands(m.active_subscribers),
                "churn": rate(m.customer_churn_rate),
            })
        })
        .collect();
    let now = &report.current;
    let unconverted: Vec<Value> = report
        .unconverted
        .iter()
        .map(|u| json!({"currency": u.currency, "subscriptions": u.subscriptions, "mrr": money(u.mrr, &u.currency)}))
        .collect();
    let sources: Vec<Value> = report
        .by_source
        .iter()
        .map(|s| {
            json!({"source": s.source, "mrr": money(s.mrr, cur), "subscribers": thousands(s.active_subscribers),
                   "new_mrr": money(s.new_mrr, cur), "new_subscribers": thousands(s.new_subscribers)})
        })
        .collect();
    json!({
        "sources": sources,
        "first_month": report.series.first().and_then(|m| month_start(&m.month)).map(|d| d.format("%B %Y").to_string()),
        "available": report.subscriptions.available,
        "reason": report.subscriptions.reason,
        "imported": thousands(report.subscriptions.imported),
        "none": report.subscriptions.imported == 0,
        "current": {
            "mrr": money(now.mrr, cur), "arr": money(now.arr, cur), "subscribers": thousands(now.active_subscribers),
            "arpu": money(now.arpu, cur), "customer_churn": rate(now.customer_churn_rate),
            "revenue_churn": rate(now.revenue_churn_rate),
        },
        "chart": chart,
        "rows": rows,
        "unconverted": unconverted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_says_what_moved_and_leaves_out_what_did_not() {
        let m = MonthFigures {
            month: "2026-03".into(),
            mrr: 33_400,
            new: 4000,
            expansion: 2900,
            contraction: 2000,
            active_subscribers: 16,
            ..MonthFigures::default()
        };
        assert_eq!(
            figures(&m, "USD"),
            "334.00 USD MRR, +40.00 USD new, +29.00 USD expansion, −20.00 USD contraction, 16 subscribers"
        );
        assert_eq!((moved(0, '+', "USD"), rate(None), rate(Some(6.25))), ("—".into(), "—".into(), "6.25 %".into()));
    }
}
