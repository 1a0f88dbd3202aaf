//! The Revenue page: totals for a date range, a daily chart drawn here as SVG, and the latest payments
//! with the visitor each is attributed to.

use rocket::{Route, State, get, routes};
use serde::Serialize;
use serde_json::json;

use crate::auth::PaymentsRead;
use crate::domain::WebsiteId;
use crate::domain::revenue::Day;
use crate::error::Error;
use crate::service::{self, App};
use crate::web::{PageResult, SitePage};

pub fn routes() -> Vec<Route> {
    routes![revenue_page]
}

/// `12345` minor units of USD → `123.45 USD` (the currency's own exponent).
pub fn money(minor: i64, currency: &str) -> String {
    let exponent = iso_currency::Currency::from_code(currency).and_then(iso_currency::Currency::exponent).unwrap_or(2);
    let scale = 10i64.pow(u32::from(exponent));
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, fraction) = (minor.unsigned_abs() / scale.unsigned_abs(), minor.unsigned_abs() % scale.unsigned_abs());
    let grouped = thousands(whole);
    if exponent == 0 {
        format!("{sign}{grouped} {currency}")
    } else {
        format!("{sign}{grouped}.{fraction:0width$} {currency}", width = usize::from(exponent))
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    grouped
}

const CHART_WIDTH: f64 = 720.0;
const CHART_HEIGHT: f64 = 180.0;

/// One day's bar: the net part and the refunded part stacked to the day's gross (SVG user units).
#[derive(Debug, Serialize)]
struct Bar {
    x: f64,
    width: f64,
    net_y: f64,
    net_height: f64,
    refund_y: f64,
    refund_height: f64,
    title: String,
}

/// Two decimals are plenty for a 720-unit-wide drawing.
fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

// Chart geometry: amounts become SVG user units, where a float's 52 bits are more than enough.
#[allow(clippy::cast_precision_loss)]
fn bars(series: &[Day], currency: &str) -> Vec<Bar> {
    let max = series.iter().map(|d| d.gross).max().unwrap_or(0).max(1) as f64;
    let slot = CHART_WIDTH / series.len().max(1) as f64;
    series
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let gross_height = day.gross.max(0) as f64 * CHART_HEIGHT / max;
            let refund_height = day.refunds.clamp(0, day.gross.max(0)) as f64 * CHART_HEIGHT / max;
            let net_height = gross_height - refund_height;
            Bar {
                x: round(i as f64 * slot),
                width: round(slot * 0.8),
                net_y: round(CHART_HEIGHT - net_height),
                net_height: round(net_height),
                refund_y: round(CHART_HEIGHT - gross_height),
                refund_height: round(refund_height),
                title: format!(
                    "{}: {} gross, {} refunded, {} payment(s)",
                    day.date,
                    money(day.gross, currency),
                    money(day.refunds, currency),
                    day.payments
                ),
            }
        })
        .collect()
}

/// The latest payments shown under the chart.
const LATEST: u32 = 25;

#[get("/websites/<website_id>/revenue?<start>&<end>")]
pub async fn revenue_page(
    website_id: WebsiteId,
    page: SitePage<'_, PaymentsRead>,
    start: Option<&str>,
    end: Option<&str>,
    app: &State<App>,
) -> PageResult {
    let role = page.access.role;
    let (range_error, revenue) = match service::revenue::summary(app, &website_id, role, start, end).await {
        Ok(r) => (None, r),
        Err(Error::BadRequest(m)) => (Some(m), service::revenue::summary(app, &website_id, role, None, None).await?),
        Err(e) => return Err(e.into()),
    };
    let latest = service::revenue::payments(app, &website_id, Some(LATEST), None).await?.payments;
    let (stripe, _) = service::stripe::status(app, &website_id).await?;
    let cur = revenue.currency.clone();
    let latest: Vec<_> = latest
        .into_iter()
        .map(|p| {
            let shown = match (&p.settled_currency, p.settled_amount) {
                (Some(c), Some(a)) if *c == cur && p.currency != cur => format!("{} ({})", money(p.amount, &p.currency), money(a, c)),
                _ => money(p.amount, &p.currency),
            };
            json!({"paid_at": p.paid_at, "amount": shown, "refunded": (p.refunded_amount > 0).then(|| money(p.refunded_amount, &p.currency)),
                   "renewal": p.renewal, "disputed": p.disputed, "visitor_id": p.visitor_id, "customer": p.customer_email.or(p.customer_id),
                   "source": p.source, "transaction_id": p.transaction_id})
        })
        .collect();
    let totals = json!({
        "gross": money(revenue.gross, &cur), "refunds": money(revenue.refunds, &cur), "net": money(revenue.net, &cur),
        "new_revenue": money(revenue.new_revenue, &cur), "renewal_revenue": money(revenue.renewal_revenue, &cur),
        "attributed_revenue": money(revenue.attributed_revenue, &cur),
    });
    let extra = json!({
        "revenue": revenue,
        "totals": totals,
        "bars": bars(&revenue.series, &cur),
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT},
        "latest": latest,
        "stripe": stripe,
        "range_error": range_error,
    });
    page.render(app, &website_id, "revenue.html", extra).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_uses_the_currency_exponent_and_groups_thousands() {
        assert_eq!(money(123_456_789, "USD"), "1,234,567.89 USD");
        assert_eq!(money(5, "EUR"), "0.05 EUR");
        assert_eq!(money(1500, "JPY"), "1,500 JPY");
        assert_eq!(money(-250, "USD"), "-2.50 USD");
        assert_eq!(
            (thousands(0), thousands(999), thousands(1_000), thousands(1_234_567)),
            ("0".to_owned(), "999".to_owned(), "1,000".to_owned(), "1,234,567".to_owned())
        );
    }

    #[test]
    #[allow(clippy::float_cmp)] // the expected values are exact binary fractions
    fn bars_stack_refunds_on_net_and_fill_the_width() {
        let day = |gross, refunds| Day { date: "2026-05-01".into(), gross, refunds, net: gross - refunds, payments: 1 };
        let b = bars(&[day(1000, 0), day(500, 250), day(0, 0)], "USD");
        assert_eq!((b[0].net_height, b[0].refund_height, b[0].net_y), (CHART_HEIGHT, 0.0, 0.0));
        assert_eq!((b[1].net_height, b[1].refund_height), (CHART_HEIGHT / 4.0, CHART_HEIGHT / 4.0));
        assert_eq!(b[1].refund_y, CHART_HEIGHT / 2.0);
        assert_eq!((b[2].net_height, b[2].x, b[2].width), (0.0, 480.0, 192.0));
        let year: Vec<Day> = (0..365).map(|_| day(100, 0)).collect();
        let last = bars(&year, "USD").pop().unwrap();
        assert!(last.x + last.width <= CHART_WIDTH && last.x > CHART_WIDTH * 0.99, "{last:?}");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn money_reads_back_as_the_amount(
            minor in any::<i64>(),
            currency in prop::sample::select(vec!["USD", "JPY", "BHD", "CLF", "EUR", "XYZ"]),
        ) {
            let text = money(minor, currency);
            let (number, code) = text.rsplit_once(' ').unwrap();
            prop_assert_eq!(code, currency);
            let exponent = iso_currency::Currency::from_code(currency).and_then(iso_currency::Currency::exponent).unwrap_or(2);
            let (whole, fraction) = number.trim_start_matches('-').split_once('.').unwrap_or((number.trim_start_matches('-'), ""));
            prop_assert_eq!(fraction.len(), usize::from(exponent));
            // Groups of three digits, separated by commas.
            let groups: Vec<&str> = whole.split(',').collect();
            prop_assert!(groups[0].len() <= 3 && !groups[0].is_empty());
            prop_assert!(groups[1..].iter().all(|g| g.len() == 3));
            let digits: String = format!("{}{fraction}", groups.concat());
            let magnitude: u128 = digits.parse().unwrap();
            prop_assert_eq!(magnitude, u128::from(minor.unsigned_abs()));
            prop_assert_eq!(number.starts_with('-'), minor < 0);
        }
    }
}
