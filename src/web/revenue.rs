//! The Revenue page: totals for a date range (net revenue first), a chart per day, week or month (`chart`), and
//! the range's payments with the visitor each is attributed to, paged newest first and filtered by kind.

use chrono::NaiveDate;
use chrono_tz::Tz;
use rocket::{Route, State, get, routes};
use serde_json::json;

use crate::auth::{PaymentsRead, QueryPairs};
use crate::domain::WebsiteId;
use crate::domain::dispute::DisputeView;
use crate::domain::payment::{PaymentFilter, PaymentKind, PaymentView};
use crate::domain::revenue::{DateRange, Day};
use crate::error::Error;
use crate::service::{self, App};
use crate::web::chart::{self, Bucket, Step};
use crate::web::range;
use crate::web::{PageResult, SitePage};

pub fn routes() -> Vec<Route> {
    routes![revenue_page]
}

pub use crate::web::money::{money, thousands};

/// Payments per page of the table.
const PAGE_SIZE: u32 = 25;

/// The range's days summed into the chart's buckets: gross bars with the refunded (and disputed) part on top.
fn buckets(series: &[Day], step: Step, (first, last): (NaiveDate, NaiveDate), currency: &str) -> Vec<Bucket> {
    let starts = step.starts(first, last);
    let mut sums = vec![Day::default(); starts.len()];
    for day in series {
        let Ok(date) = NaiveDate::parse_from_str(&day.date, "%Y-%m-%d") else { continue };
        if let Ok(i) = starts.binary_search(&step.floor(date)) {
            let sum = &mut sums[i];
            sum.gross = sum.gross.saturating_add(day.gross);
            sum.refunds = sum.refunds.saturating_add(day.refunds);
            sum.disputes = sum.disputes.saturating_add(day.disputes);
            sum.net = sum.net.saturating_add(day.net);
            sum.payments = sum.payments.saturating_add(day.payments);
        }
    }
    starts
        .into_iter()
        .zip(sums)
        .map(|(start, d)| {
            let disputed = if d.disputes == 0 {
                String::new()
            } else {
                format!(", {} lost to disputes", money(d.disputes, currency))
            };
            let figures = format!(
                "{} net ({} gross, {} refunded{disputed}), {} payment{}",
                money(d.net, currency),
                money(d.gross, currency),
                money(d.refunds, currency),
                thousands(d.payments),
                if d.payments == 1 { "" } else { "s" }
            );
            Bucket { start, bar: d.gross, part: d.refunds.saturating_add(d.disputes), line: None, figures }
        })
        .collect()
}

#[get("/websites/<website_id>/revenue")]
pub async fn revenue_page(
    website_id: WebsiteId,
    page: SitePage<'_, PaymentsRead>,
    query: QueryPairs,
    app: &State<App>,
) -> PageResult {
    let role = page.access.role;
    let site = service::websites::get(app, &website_id, role).await?;
    let tz: Tz = site.timezone.parse().unwrap_or(Tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let first_payment = service::revenue::first_day(app, &website_id, tz).await?;
    let mut asked = range::asked(&query.0);
    let (range_error, span) = match range::dates(&asked, today) {
        Ok(span) => (None, span),
        Err(message) => {
            asked.preset = range::DEFAULT.into();
            (Some(message), range::dates(&asked, today).ok().flatten())
        }
    };
    // All time starts at the first payment (at most ten years back).
    let (first, last) =
        span.unwrap_or_else(|| (first_payment.unwrap_or(today).clamp(range::earliest(today), today), today));
    let dates = (first.to_string(), last.to_string());
    let revenue = service::revenue::summary(app, &website_id, role, Some(&dates.0), Some(&dates.1)).await?;
    let cur = revenue.currency.clone();
    let step = Step::picked(range::param(&query.0, "by"), (last - first).num_days() + 1);
    let unit = 10i64.pow(u32::from(
        iso_currency::Currency::from_code(&cur).and_then(iso_currency::Currency::exponent).unwrap_or(2),
    ));
    #[allow(clippy::cast_precision_loss)] // an axis label
    let chart = chart::draw(
        &buckets(&revenue.series, step, (first, last), &cur),
        step,
        unit,
        |v| chart::compact(v as f64 / unit as f64),
        |v| v.to_string(),
    );

    let kind = PaymentKind::parse(range::param(&query.0, "kind"));
    let (from, to) = DateRange { first, last, tz }.utc_bounds();
    let filter = PaymentFilter { kind, from: Some(from), to: Some(to) };
    let after = range::param(&query.0, "after");
    let (list_error, shown) =
        match service::revenue::payments_where(app, &website_id, Some(PAGE_SIZE), after, filter.clone()).await {
            Ok(found) => (None, found),
            Err(Error::BadRequest(_)) => (
                Some("That page of payments no longer exists; here are the newest."),
                service::revenue::payments_where(app, &website_id, Some(PAGE_SIZE), None, filter).await?,
            ),
            Err(e) => return Err(e.into()),
        };
    let base = format!("/websites/{website_id}/revenue");
    let payments: Vec<_> = shown.payments.into_iter().map(|p| row(p, &cur)).collect();
    let kinds: Vec<_> = PaymentKind::ALL
        .iter()
        .map(|k| {
            json!({"label": k.label(), "current": *k == kind,
                        "href": range::link(&base, &query.0, &[("kind", Some(k.name())), ("after", None)])})
        })
        .collect();
    let steps: Vec<_> = Step::ALL
        .iter()
        .map(|s| json!({"name": s.name(), "current": *s == step, "href": range::link(&base, &query.0, &[("by", Some(s.name()))])}))
        .collect();
    let (stripe, _) = service::stripe::status(app, &website_id).await?;
    let subscriptions = crate::web::subscriptions::section(app, &website_id, &site, (first, last)).await?;
    let totals = json!({
        "gross": money(revenue.gross, &cur), "refunds": money(revenue.refunds, &cur), "net": money(revenue.net, &cur),
        "disputes": money(revenue.disputes, &cur),
        "new_revenue": money(revenue.new_revenue, &cur), "renewal_revenue": money(revenue.renewal_revenue, &cur),
        "attributed_revenue": money(revenue.attributed_revenue, &cur),
        "payments": thousands(revenue.payments),
    });
    let extra = json!({
        "revenue": revenue,
        "totals": totals,
        "chart": chart,
        "step": step.name(),
        "steps": steps,
        "presets": range::presets(&base, &query.0, &asked.preset),
        "custom": asked.preset == "custom",
        "start": asked.start.clone().unwrap_or_else(|| dates.0.clone()),
        "end": asked.end.clone().unwrap_or_else(|| dates.1.clone()),
        "range_label": range::label(Some((first, last))),
        "all_time": span.is_none(),
        "range_error": range_error,
        "has_payments": first_payment.is_some(),
        "payments": payments,
        "kinds": kinds,
        "kind": kind.label(),
        "filtered": kind != PaymentKind::All,
        "list_error": list_error,
        "older": shown.next.map(|next| range::link(&base, &query.0, &[("after", Some(&next))])),
        "newest": after.map(|_| range::link(&base, &query.0, &[("after", None)])),
        "stripe": stripe,
        "subscriptions": subscriptions,
    });
    page.render(app, &website_id, "revenue.html", extra).await
}

/// One payment as the table shows it: the amount in its currency (and the settled amount in the website's).
fn row(p: PaymentView, currency: &str) -> serde_json::Value {
    let shown = match (&p.settled_currency, p.settled_amount) {
        (Some(c), Some(a)) if c == currency && p.currency != currency => {
            format!("{} ({})", money(p.amount, &p.currency), money(a, c))
        }
        _ => money(p.amount, &p.currency),
    };
    json!({"paid_at": p.paid_at, "amount": shown, "refunded": (p.refunded_amount > 0).then(|| money(p.refunded_amount, &p.currency)),
           "renewal": p.renewal, "disputed": p.disputed, "dispute": p.dispute.as_ref().map(DisputeView::label),
           "dispute_status": p.dispute.as_ref().map(|d| d.status.clone()), "visitor_id": p.visitor_id, "customer": p.customer_email.or(p.customer_id),
           "source": p.source, "transaction_id": p.transaction_id})
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
    fn days_are_summed_into_their_weeks_and_every_week_is_drawn() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let day = |date: &str, gross, refunds| Day {
            date: date.into(),
            gross,
            refunds,
            disputes: 0,
            net: gross - refunds,
            payments: 1,
        };
        let series = [day("2026-03-04", 1000, 0), day("2026-03-08", 500, 250), day("2026-03-18", 700, 0)];
        let weeks = buckets(&series, Step::Week, (d("2026-03-04"), d("2026-03-18")), "USD");
        assert_eq!(
            weeks.iter().map(|b| b.start).collect::<Vec<_>>(),
            vec![d("2026-03-02"), d("2026-03-09"), d("2026-03-16")]
        );
        assert_eq!((weeks[0].bar, weeks[0].part, weeks[1].bar), (1500, 250, 0));
        assert_eq!(weeks[0].figures, "12.50 USD net (15.00 USD gross, 2.50 USD refunded), 2 payments");
        assert_eq!(weeks[2].figures, "7.00 USD net (7.00 USD gross, 0.00 USD refunded), 1 payment");
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
