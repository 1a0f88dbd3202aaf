//! The revenue summary: totals and a per-day series over local dates of the website's time zone.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

/// One quarter hour (UTC) of payments as the revenue summary counts them in the website currency (see
/// the rollups' migration): sums in minor units, and how many payments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevenueBucket {
    /// Unix seconds at the start of the quarter hour.
    pub start: i64,
    pub gross: i64,
    pub refunds: i64,
    pub payments: i64,
    pub renewal_net: i64,
    pub renewal_payments: i64,
    pub attributed_net: i64,
    pub attributed_payments: i64,
    /// What disputes took from the bucket's payments (see the disputes' migration).
    pub disputes: i64,
}

/// The longest range one request may ask for: ten years (the Revenue page's "All time" starts at most this far back).
pub const MAX_DAYS: u64 = 3653;

/// What a range longer than `MAX_DAYS` is told, on every page and API route.
pub fn too_long() -> String {
    format!("A range may span at most 10 years ({MAX_DAYS} days); pick a later start date")
}

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
            return Err(too_long());
        }
        Ok(Self { first, last, tz })
    }

    /// The UTC instants `[start, end)` the local dates cover, in Unix seconds.
    pub fn unix_bounds(&self) -> (i64, i64) {
        let (start, end) = self.utc_instants();
        (start.timestamp(), end.timestamp())
    }

    /// The UTC instants `[start, end)` the local dates cover, as stored-time strings.
    pub fn utc_bounds(&self) -> (String, String) {
        let (start, end) = self.utc_instants();
        (stamp(start), stamp(end))
    }

    fn utc_instants(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let at_midnight = |d: NaiveDate| -> DateTime<Utc> {
            let local = d.and_hms_opt(0, 0, 0).unwrap_or_default();
            // A midnight skipped by a DST jump falls back to the earliest valid instant.
            self.tz
                .from_local_datetime(&local)
                .earliest()
                .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
        };
        let end = self.last.checked_add_days(Days::new(1)).unwrap_or(self.last);
        (at_midnight(self.first), at_midnight(end))
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub date: String,
    pub gross: i64,
    pub refunds: i64,
    /// Lost to disputes: a lost dispute's amount and fee, a won one's fee if Stripe kept it.
    pub disputes: i64,
    /// `gross − refunds − disputes`.
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
    /// What disputes took from the range's payments: a lost dispute's amount and fee, a won one's fee when Stripe
    /// kept it (per Stripe's balance transactions; open disputes count once decided).
    pub disputes: i64,
    /// `gross − refunds − disputes`.
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

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Sums the quarter hours of the range into totals and one entry per local date. `all_payments` is
/// how many payments the range has in any currency (those not counted in the buckets are reported as
/// in another currency). Sums saturate instead of wrapping: a figure can be too large, never negative
/// by overflow.
pub fn summarize(buckets: &[RevenueBucket], all_payments: i64, range: &DateRange, currency: &str) -> Revenue {
    let days = range.first.iter_days().take_while(|d| *d <= range.last);
    let mut series: Vec<Day> = days.map(|d| Day { date: d.to_string(), ..Day::default() }).collect();
    let mut out = Revenue {
        currency: currency.to_owned(),
        start: range.first.to_string(),
        end: range.last.to_string(),
        gross: 0,
        refunds: 0,
        disputes: 0,
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
    for b in buckets {
        let net = b.gross.saturating_sub(b.refunds).saturating_sub(b.disputes);
        out.gross = out.gross.saturating_add(b.gross);
        out.refunds = out.refunds.saturating_add(b.refunds);
        out.disputes = out.disputes.saturating_add(b.disputes);
        out.payments += count(b.payments);
        out.renewal_payments += count(b.renewal_payments);
        out.renewal_revenue = out.renewal_revenue.saturating_add(b.renewal_net);
        out.new_payments += count(b.payments - b.renewal_payments);
        out.new_revenue = out.new_revenue.saturating_add(net.saturating_sub(b.renewal_net));
        out.attributed_payments += count(b.attributed_payments);
        out.attributed_revenue = out.attributed_revenue.saturating_add(b.attributed_net);
        out.unattributed_payments += count(b.payments - b.attributed_payments);
        let local = DateTime::from_timestamp(b.start, 0).map(|t| t.with_timezone(&range.tz).date_naive());
        if let Some(date) = local {
            let index = (date - range.first).num_days();
            if let Some(day) = usize::try_from(index).ok().and_then(|i| series.get_mut(i)) {
                day.gross = day.gross.saturating_add(b.gross);
                day.refunds = day.refunds.saturating_add(b.refunds);
                day.disputes = day.disputes.saturating_add(b.disputes);
                day.net = day.net.saturating_add(net);
                day.payments += count(b.payments);
            }
        }
    }
    out.net = out.gross.saturating_sub(out.refunds).saturating_sub(out.disputes);
    out.other_currency_payments = count(all_payments).saturating_sub(out.payments);
    out.series = series;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(stamp: &str) -> i64 {
        DateTime::parse_from_rfc3339(stamp).unwrap().timestamp()
    }

    fn bucket(start: &str, gross: i64, refunds: i64, renewal: bool, attributed: bool) -> RevenueBucket {
        let net = gross - refunds;
        RevenueBucket {
            start: at(start),
            gross,
            refunds,
            payments: 1,
            renewal_net: if renewal { net } else { 0 },
            renewal_payments: i64::from(renewal),
            attributed_net: if attributed { net } else { 0 },
            attributed_payments: i64::from(attributed),
            disputes: 0,
        }
    }

    #[test]
    fn local_days_follow_the_time_zone() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 5, 21).unwrap();
        let range = DateRange::parse(Some("2026-05-20"), Some("2026-05-21"), tz, today).unwrap();
        assert_eq!(range.utc_bounds(), ("2026-05-20T04:00:00.000Z".into(), "2026-05-22T04:00:00.000Z".into()));
        assert_eq!(range.unix_bounds(), (at("2026-05-20T04:00:00Z"), at("2026-05-22T04:00:00Z")));
        let buckets = [
            bucket("2026-05-21T03:30:00Z", 1000, 0, false, true), // 23:30 on the 20th in New York
            bucket("2026-05-21T12:00:00Z", 500, 200, true, false),
        ];
        // Three payments in the range, one of them in another currency.
        let r = summarize(&buckets, 3, &range, "USD");
        assert_eq!((r.gross, r.refunds, r.net, r.payments), (1500, 200, 1300, 2));
        assert_eq!((r.new_revenue, r.renewal_revenue, r.attributed_revenue), (1000, 300, 1000));
        assert_eq!((r.attributed_payments, r.unattributed_payments, r.other_currency_payments), (1, 1, 1));
        assert_eq!(r.series.len(), 2);
        assert_eq!((r.series[0].date.as_str(), r.series[0].gross), ("2026-05-20", 1000));
        assert_eq!((r.series[1].gross, r.series[1].net), (500, 300));
    }

    #[test]
    fn disputes_come_off_net_and_its_parts() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 21).unwrap();
        let range = DateRange::parse(Some("2026-05-21"), Some("2026-05-21"), Tz::UTC, today).unwrap();
        let mut lost = bucket("2026-05-21T12:00:00Z", 2900, 0, false, true);
        (lost.disputes, lost.attributed_net) = (4400, 2900 - 4400);
        let r = summarize(&[lost, bucket("2026-05-21T13:00:00Z", 1000, 100, true, false)], 2, &range, "USD");
        assert_eq!((r.gross, r.refunds, r.disputes, r.net), (3900, 100, 4400, -600));
        assert_eq!((r.renewal_revenue, r.new_revenue, r.attributed_revenue), (900, -1500, -1500));
        assert_eq!((r.series[0].disputes, r.series[0].net), (4400, -600));
    }

    #[test]
    fn sums_saturate_instead_of_wrapping() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 21).unwrap();
        let range = DateRange::parse(Some("2026-05-21"), Some("2026-05-21"), Tz::UTC, today).unwrap();
        let buckets: Vec<RevenueBucket> =
            (0..9300).map(|_| bucket("2026-05-21T12:00:00Z", 999_999_999_999_999, 0, false, true)).collect();
        let r = summarize(&buckets, 9300, &range, "USD");
        assert_eq!((r.gross, r.net, r.series[0].gross), (i64::MAX, i64::MAX, i64::MAX));
        assert!(r.new_revenue > 0 && r.attributed_revenue > 0);
    }

    #[test]
    fn ranges_are_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 21).unwrap();
        let d = DateRange::parse(None, None, Tz::UTC, today).unwrap();
        assert_eq!((d.first.to_string(), d.last.to_string()), ("2026-04-22".into(), "2026-05-21".into()));
        assert!(DateRange::parse(Some("2026-05-22"), Some("2026-05-21"), Tz::UTC, today).is_err());
        assert_eq!(DateRange::parse(Some("2016-05-20"), Some("2026-05-21"), Tz::UTC, today).unwrap_err(), too_long());
        assert!(DateRange::parse(Some("2016-05-21"), Some("2026-05-21"), Tz::UTC, today).is_ok());
        assert!(DateRange::parse(Some("May 1"), None, Tz::UTC, today).unwrap_err().contains("2026-05-21"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn date() -> impl Strategy<Value = String> {
        prop_oneof![
            (1i32..=9999, 0u32..=13, 0u32..=32).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
            "[0-9-]{0,12}",
            ".{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_never_panics_and_accepts_only_ordered_bounded_ranges(
            start in proptest::option::of(date()),
            end in proptest::option::of(date()),
            today_days in 0u64..80_000,
            zone in 0usize..chrono_tz::TZ_VARIANTS.len(),
        ) {
            let today = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + Days::new(today_days);
            let tz = chrono_tz::TZ_VARIANTS[zone];
            if let Ok(range) = DateRange::parse(start.as_deref(), end.as_deref(), tz, today) {
                prop_assert!(range.first <= range.last);
                prop_assert!((range.last - range.first).num_days() < MAX_DAYS.cast_signed());
                if end.is_none() {
                    prop_assert_eq!(range.last, today);
                }
                if start.is_none() {
                    prop_assert_eq!((range.last - range.first).num_days(), 29);
                }
                let (from, to) = range.unix_bounds();
                prop_assert!(from < to, "{from} < {to}");
            }
        }
    }
}
