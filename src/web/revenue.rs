//! The Revenue page: totals for a date range, a daily chart drawn here as SVG, and the latest payments
//! with the visitor each is attributed to.

use rocket::request::FlashMessage;
use rocket::{Route, State, get, routes};
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::json;

use crate::api::revenue::revenue_for;
use crate::auth::{PaymentsRead, WebsiteAccess};
use crate::db::{payments, stripe as stripe_db};
use crate::domain::revenue::Day;
use crate::error::Error;
use crate::state::AppState;
use crate::web::Browser;
use crate::web::settings::website_page;

pub fn routes() -> Vec<Route> {
    routes![revenue_page]
}

/// `12345` minor units of USD → `123.45 USD` (the currency's own exponent).
pub fn money(minor: i64, currency: &str) -> String {
    let exponent = iso_currency::Currency::from_code(currency).and_then(|c| c.exponent()).unwrap_or(2);
    let scale = 10i64.pow(u32::from(exponent));
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, fraction) = (minor.unsigned_abs() / scale.unsigned_abs(), minor.unsigned_abs() % scale.unsigned_abs());
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if exponent == 0 {
        format!("{sign}{grouped} {currency}")
    } else {
        format!("{sign}{grouped}.{fraction:0width$} {currency}", width = usize::from(exponent))
    }
}

const CHART_WIDTH: i64 = 720;
const CHART_HEIGHT: i64 = 180;

/// One day's bar: the net part and the refunded part stacked to the day's gross.
#[derive(Serialize)]
struct Bar {
    x: i64,
    width: i64,
    net_y: i64,
    net_height: i64,
    refund_y: i64,
    refund_height: i64,
    title: String,
}

fn bars(series: &[Day], currency: &str) -> Vec<Bar> {
    let max = series.iter().map(|d| d.gross).max().unwrap_or(0).max(1);
    let n = i64::try_from(series.len()).unwrap_or(1).max(1);
    let slot = (CHART_WIDTH / n).max(1);
    let width = (slot * 4 / 5).max(1);
    series
        .iter()
        .zip(0..)
        .map(|(day, i)| {
            let gross_height = day.gross.max(0) * CHART_HEIGHT / max;
            let refund_height = day.refunds.clamp(0, day.gross.max(0)) * CHART_HEIGHT / max;
            let net_height = gross_height - refund_height;
            Bar {
                x: i * slot,
                width,
                net_y: CHART_HEIGHT - net_height,
                net_height,
                refund_y: CHART_HEIGHT - gross_height,
                refund_height,
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

#[get("/websites/<website_id>/revenue?<start>&<end>")]
pub async fn revenue_page(
    website_id: &str,
    access: WebsiteAccess<PaymentsRead>,
    browser: Browser<'_>,
    start: Option<&str>,
    end: Option<&str>,
    flash: Option<FlashMessage<'_>>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    let _ = website_id;
    let (range_error, revenue) = match revenue_for(state, access.website_id.clone(), access.role, start, end).await {
        Ok(r) => (None, r),
        Err(Error::BadRequest(m)) => {
            (Some(m), revenue_for(state, access.website_id.clone(), access.role, None, None).await?)
        }
        Err(e) => return Err(e),
    };
    let site = access.website_id.clone();
    let (latest, stripe) =
        state.db.run(move |c| Ok((payments::list(c, &site, 25, None)?, stripe_db::status(c, &site)?.0))).await?;
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
    website_page("revenue.html", &access, &browser, flash.as_ref(), state, extra).await
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
    }

    #[test]
    fn bars_stack_refunds_on_net_up_to_the_largest_day() {
        let day = |gross, refunds| Day { date: "2026-05-01".into(), gross, refunds, net: gross - refunds, payments: 1 };
        let b = bars(&[day(1000, 0), day(500, 250), day(0, 0)], "USD");
        assert_eq!((b[0].net_height, b[0].refund_height, b[0].net_y), (CHART_HEIGHT, 0, 0));
        assert_eq!((b[1].net_height, b[1].refund_height), (CHART_HEIGHT / 4, CHART_HEIGHT / 4));
        assert_eq!(b[1].refund_y, CHART_HEIGHT / 2);
        assert_eq!((b[2].net_height, b[2].x), (0, 2 * (CHART_WIDTH / 3)));
    }
}
