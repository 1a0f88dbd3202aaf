//! The revenue summary: totals and a per-day series over local dates of the website's time zone.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

/// What the revenue summary needs of each payment paid in `[start, end)`.
pub struct RevenueRow {
    pub paid_at: String,
    /// In the website currency: the settled amount when it was settled in it, else the amount when
    /// the payment was in it; `None` for a payment in another currency.
    pub amount: Option<i64>,
    pub refunded: Option<i64>,
    pub renewal: bool,
    pub attributed: bool,
}

/// The longest range one request may ask for.
pub const MAX_DAYS: u64 = 731;

/// Local dates `[first, last]`, inclusive, in a time zone.
#[derive(Debug, Clone, Copy)]
pub struct DateRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub tz: Tz,
}

impl DateRange {
    /// `start`/`end` as `YYYY-MM-DD` (both optional: the 30 days up to today).
    pub fn parse(start: Option<&str>, end: Option<&str>, tz: Tz, today: NaiveDate) -> Result<Self, String> {
        let date = |raw: &str, name: &str| {
            NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .map_err(|_| format!("{name} must be a date such as 2026-05-21"))
        };
        let last = end.map(|e| date(e, "end")).transpose()?.unwrap_or(today);
        let first = match start {
            Some(s) => date(s, "start")?,
            None => last.checked_sub_days(Days::new(29)).ok_or("end is out of range")?,
        };
        if first > last {
            return Err("start must not be after end".into());
        }
        if (last - first).num_days() >= MAX_DAYS.cast_signed() {
            return Err(format!("The range may span at most {MAX_DAYS} days"));
        }
        Ok(Self { first, last, tz })
    }

    /// The UTC instants `[start, end)` the local dates cover, as stored-time strings.
    pub fn utc_bounds(&self) -> (String, String) {
        let at_midnight = |d: NaiveDate| -> DateTime<Utc> {
            let local = d.and_hms_opt(0, 0, 0).unwrap_or_default();
            // A midnight skipped by a DST jump falls back to the earliest valid instant.
            self.tz
                .from_local_datetime(&local)
                .earliest()
                .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
        };
        let end = self.last.checked_add_days(Days::new(1)).unwrap_or(self.last);
        (stamp(at_midnight(self.first)), stamp(at_midnight(end)))
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[derive(Debug, Default, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub date: String,
    pub gross: i64,
    pub refunds: i64,
    pub net: i64,
    pub payments: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revenue {
    pub currency: String,
    pub start: String,
    pub end: String,
    pub gross: i64,
    pub refunds: i64,
    pub net: i64,
    pub payments: u64,
    pub new_payments: u64,
    pub renewal_payments: u64,
    pub new_revenue: i64,
    pub renewal_revenue: i64,
    pub attributed_payments: u64,
    pub unattributed_payments: u64,
    pub attributed_revenue: i64,
    /// Payments in another currency with no settlement in the website's: counted here, not in the sums.
    pub other_currency_payments: u64,
    pub series: Vec<Day>,
}

/// Sums `rows` (already limited to the range) into totals and one entry per local date.
pub fn summarize(rows: &[RevenueRow], range: &DateRange, currency: &str) -> Revenue {
    let days = range.first.iter_days().take_while(|d| *d <= range.last);
    let mut series: Vec<Day> = days.map(|d| Day { date: d.to_string(), ..Day::default() }).collect();
    let mut out = Revenue {
        currency: currency.to_owned(),
        start: range.first.to_string(),
        end: range.last.to_string(),
        gross: 0,
        refunds: 0,
        net: 0,
        payments: 0,
        new_payments: 0,
        renewal_payments: 0,
        new_revenue: 0,
        renewal_revenue: 0,
        attributed_payments: 0,
        unattributed_payments: 0,
        attributed_revenue: 0,
        other_currency_payments: 0,
        series: Vec::new(),
    };
    for row in rows {
        let Some(amount) = row.amount else {
            out.other_currency_payments += 1;
            continue;
        };
        let refunded = row.refunded.unwrap_or(0);
        // Sums saturate instead of wrapping: a figure can be too large, never negative by overflow.
        let net = amount.saturating_sub(refunded);
        out.gross = out.gross.saturating_add(amount);
        out.refunds = out.refunds.saturating_add(refunded);
        out.payments += 1;
        if row.renewal {
            out.renewal_payments += 1;
            out.renewal_revenue = out.renewal_revenue.saturating_add(net);
        } else {
            out.new_payments += 1;
            out.new_revenue = out.new_revenue.saturating_add(net);
        }
        if row.attributed {
            out.attributed_payments += 1;
            out.attributed_revenue = out.attributed_revenue.saturating_add(net);
        } else {
            out.unattributed_payments += 1;
        }
        let local = DateTime::parse_from_rfc3339(&row.paid_at).map(|t| t.with_timezone(&range.tz).date_naive());
        if let Ok(date) = local {
            let index = (date - range.first).num_days();
            if let Some(day) = usize::try_from(index).ok().and_then(|i| series.get_mut(i)) {
                day.gross = day.gross.saturating_add(amount);
                day.refunds = day.refunds.saturating_add(refunded);
                day.net = day.net.saturating_add(net);
                day.payments += 1;
            }
        }
    }
    out.net = out.gross.saturating_sub(out.refunds);
    out.series = series;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(paid_at: &str, amount: Option<i64>, refunded: i64, renewal: bool, attributed: bool) -> RevenueRow {
        RevenueRow { paid_at: paid_at.into(), amount, refunded: Some(refunded), renewal, attributed }
    }

    #[test]
    fn local_days_follow_the_time_zone() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 5, 21).unwrap();
        let range = DateRange::parse(Some("2026-05-20"), Some("2026-05-21"), tz, today).unwrap();
        assert_eq!(range.utc_bounds(), ("2026-05-20T04:00:00.000Z".into(), "2026-05-22T04:00:00.000Z".into()));
        let rows = [
            row("2026-05-21T03:30:00.000Z", Some(1000), 0, false, true), // 23:30 on the 20th in New York
            row("2026-05-21T12:00:00.000Z", Some(500), 200, true, false),
            row("2026-05-21T13:00:00.000Z", None, 0, false, true),
        ];
        let r = summarize(&rows, &range, "USD");
        assert_eq!((r.gross, r.refunds, r.net, r.payments), (1500, 200, 1300, 2));
        assert_eq!((r.new_revenue, r.renewal_revenue, r.attributed_revenue), (1000, 300, 1000));
        assert_eq!((r.attributed_payments, r.unattributed_payments, r.other_currency_payments), (1, 1, 1));
        assert_eq!(r.series.len(), 2);
        assert_eq!((r.series[0].date.as_str(), r.series[0].gross), ("2026-05-20", 1000));
        assert_eq!((r.series[1].gross, r.series[1].net), (500, 300));
    }

    #[test]
    fn sums_saturate_instead_of_wrapping() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 21).unwrap();
        let range = DateRange::parse(Some("2026-05-21"), Some("2026-05-21"), Tz::UTC, today).unwrap();
        let rows: Vec<RevenueRow> =
            (0..9300).map(|_| row("2026-05-21T12:00:00.000Z", Some(999_999_999_999_999), 0, false, true)).collect();
        let r = summarize(&rows, &range, "USD");
        assert_eq!((r.gross, r.net, r.series[0].gross), (i64::MAX, i64::MAX, i64::MAX));
        assert!(r.new_revenue > 0 && r.attributed_revenue > 0);
    }

    #[test]
    fn ranges_are_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 21).unwrap();
        let d = DateRange::parse(None, None, Tz::UTC, today).unwrap();
        assert_eq!((d.first.to_string(), d.last.to_string()), ("2026-04-22".into(), "2026-05-21".into()));
        assert!(DateRange::parse(Some("2026-05-22"), Some("2026-05-21"), Tz::UTC, today).is_err());
        assert!(DateRange::parse(Some("2020-01-01"), Some("2026-05-21"), Tz::UTC, today).is_err());
        assert!(DateRange::parse(Some("May 1"), None, Tz::UTC, today).unwrap_err().contains("2026-05-21"));
    }
}
