//! The subscription figures per month and now: MRR at each month's end in the website's zone, how it moved
//! during the month, subscribers, churn and ARPU.
//!
//! Movements are per customer (Stripe's subscriber), from its MRR at the end of the previous month to the end of
//! this one: from nothing to something is *new* (or *reactivated* if the customer had MRR before), from something
//! to nothing *churned*, up *expansion*, down *contraction*. So MRR at a month's end is the last one's plus new,
//! reactivated and expansion, less contraction and churned, exactly. Subscriber churn rate: customers churned in
//! the period ÷ (active subscribers at its start + those who started in it); revenue churn rate: MRR churned or
//! contracted ÷ MRR at its start; ARPU: MRR ÷ active subscribers. The current figures compare now with 30 days ago
//! (Stripe's rolling window).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Rate, Subscription, Timeline};

/// The current figures look back this far.
pub const WINDOW_SECS: i64 = 30 * 86_400;
/// The most months one request may ask for (ten years).
pub const MAX_MONTHS: u32 = 120;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

impl YearMonth {
    /// `2026-03` (or a date in it, `2026-03-15`).
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let date = match raw.len() {
            7 => NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d").ok()?,
            10 => NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?,
            _ => return None,
        };
        (1970..=2099).contains(&date.year()).then(|| Self::of(date))
    }

    pub fn of(date: NaiveDate) -> Self {
        Self { year: date.year(), month: date.month() }
    }

    /// The month holding instant `t` in zone `tz`.
    pub fn at(t: i64, tz: Tz) -> Self {
        let date = Utc.timestamp_opt(t, 0).single().map_or(NaiveDate::MIN, |d| d.with_timezone(&tz).date_naive());
        Self::of(date)
    }

    #[must_use]
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self { year: self.year + 1, month: 1 }
        } else {
            Self { year: self.year, month: self.month + 1 }
        }
    }

    /// Months from `self` to `later`, counting both (0 when `later` is earlier).
    pub fn count_to(self, later: Self) -> u32 {
        let n = (later.year - self.year) * 12 + later.month.cast_signed() - self.month.cast_signed() + 1;
        u32::try_from(n).unwrap_or(0)
    }

    #[must_use]
    pub fn minus(self, months: u32) -> Self {
        let index = self.year * 12 + self.month.cast_signed() - 1 - months.cast_signed();
        Self { year: index.div_euclid(12), month: index.rem_euclid(12).cast_unsigned() + 1 }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// A month in a time zone: Unix seconds `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub month: YearMonth,
    pub start: i64,
    pub end: i64,
}

/// Local midnight of `date` in `tz` (a midnight skipped by a DST jump: the earliest valid instant).
fn midnight(date: NaiveDate, tz: Tz) -> i64 {
    let local = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&local).earliest().map_or_else(|| local.and_utc().timestamp(), |t| t.timestamp())
}

/// The months `first..=last` in `tz`.
pub fn months(tz: Tz, first: YearMonth, last: YearMonth) -> Vec<Month> {
    std::iter::successors(Some(first), |m| Some(m.next()))
        .take(first.count_to(last) as usize)
        .map(|m| Month { month: m, start: midnight(m.first_day(), tz), end: midnight(m.next().first_day(), tz) })
        .collect()
}

/// One month's figures (money in minor units of the website's currency; rates in percent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonthFigures {
    #[schema(example = "2026-03")]
    pub month: String,
    /// MRR at the month's end (for the current month: now).
    pub mrr: i64,
    pub new: i64,
    pub expansion: i64,
    pub contraction: i64,
    pub churned: i64,
    pub reactivated: i64,
    pub active_subscribers: u64,
    pub new_subscribers: u64,
    pub reactivated_subscribers: u64,
    pub churned_subscribers: u64,
    pub arpu: i64,
    /// `null` when no subscriber could churn.
    pub customer_churn_rate: Option<f64>,
    /// `null` when the month began without MRR.
    pub revenue_churn_rate: Option<f64>,
}

/// The figures now (rates over the last 30 days).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Current {
    pub mrr: i64,
    pub arr: i64,
    pub active_subscribers: u64,
    pub arpu: i64,
    pub customer_churn_rate: Option<f64>,
    pub revenue_churn_rate: Option<f64>,
}

/// Subscriptions in a currency revlink has no settlement rate for: counted here, in their own currency, and in
/// none of the figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Unconverted {
    pub currency: String,
    pub subscriptions: u64,
    /// MRR now, in minor units of `currency`.
    pub mrr: i64,
}

/// A customer becoming a subscriber (new or again) in a month, with the MRR it started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub customer: String,
    pub month: YearMonth,
    pub mrr: i64,
    pub reactivated: bool,
}

/// Everything computed for a website at once (cached by the service).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Computed {
    /// One per month given, in order.
    pub months: Vec<MonthFigures>,
    pub current: Current,
    pub unconverted: Vec<Unconverted>,
    pub starts: Vec<Start>,
    /// Each subscriber's MRR now.
    pub customers_now: Vec<(String, i64)>,
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)] // counts and minor units far below 2^52
    (whole > 0).then(|| (part as f64 * 10_000.0 / whole as f64).round() / 100.0)
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// What moved between two instants, per customer.
#[derive(Default)]
struct Moves {
    mrr: i64,
    active: usize,
    start_mrr: i64,
    start_active: usize,
    new: (i64, usize),
    reactivated: (i64, usize),
    churned: (i64, usize),
    expansion: i64,
    contraction: i64,
}

impl Moves {
    fn add(&mut self, before: i64, after: i64, had_before: bool) {
        self.mrr += after;
        self.start_mrr += before;
        self.active += usize::from(after > 0);
        self.start_active += usize::from(before > 0);
        match (before > 0, after > 0) {
            (false, true) if had_before => self.reactivated = (self.reactivated.0 + after, self.reactivated.1 + 1),
            (false, true) => self.new = (self.new.0 + after, self.new.1 + 1),
            (true, false) => self.churned = (self.churned.0 + before, self.churned.1 + 1),
            (true, true) if after > before => self.expansion += after - before,
            (true, true) => self.contraction += before - after,
            (false, false) => {}
        }
    }

    fn arpu(&self) -> i64 {
        i64::try_from(self.active).ok().filter(|n| *n > 0).map_or(0, |n| (self.mrr + n / 2).div_euclid(n))
    }

    fn customer_churn_rate(&self) -> Option<f64> {
        let at_risk = self.start_active + self.new.1 + self.reactivated.1;
        percent(i64::try_from(self.churned.1).ok()?, i64::try_from(at_risk).ok()?)
    }

    fn revenue_churn_rate(&self) -> Option<f64> {
        percent(self.churned.0 + self.contraction, self.start_mrr)
    }
}

/// The figures of `subscriptions` for each of `months` (consecutive, the first no later than the earliest
/// subscription's, so that a customer who had MRR before is known) and now, in `currency`. `rate` converts a
/// subscription in another currency; one without a rate is only counted in `unconverted`.
pub fn compute(
    subscriptions: &[Subscription],
    rate: impl Fn(&Subscription) -> Option<Rate>,
    currency: &str,
    months: &[Month],
    now: i64,
) -> Computed {
    // The instants each subscription is valued at: before the first month, each month's end (the current month:
    // now), and 30 days ago.
    let mut points: Vec<i64> = Vec::with_capacity(months.len() + 2);
    points.push(months.first().map_or(now, |m| m.start) - 1);
    points.extend(months.iter().map(|m| if m.end > now { now } else { m.end - 1 }));
    let (ago, now_point) = (points.len(), points.len() + 1);
    points.push(now - WINDOW_SECS);
    points.push(now);
    let width = points.len();

    let mut customers: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let mut values: Vec<i64> = Vec::new();
    let mut unconverted: HashMap<&str, (u64, i64)> = HashMap::new();
    for sub in subscriptions {
        let rate = if sub.currency.eq_ignore_ascii_case(currency) { Some(Rate::SAME) } else { rate(sub) };
        let Some(rate) = rate else {
            let entry = unconverted.entry(&sub.currency).or_default();
            let mrr = Timeline::new(sub, Rate::SAME).at(now);
            *entry = (entry.0 + u64::from(mrr > 0), entry.1 + mrr);
            continue;
        };
        let timeline = Timeline::new(sub, rate);
        let c = *customers.entry(&sub.customer).or_insert_with(|| {
            names.push(&sub.customer);
            values.resize(values.len() + width, 0);
            names.len() - 1
        });
        let row = &mut values[c * width..(c + 1) * width];
        for (value, t) in row.iter_mut().zip(&points) {
            *value += timeline.at(*t);
        }
    }

    let mut had: Vec<bool> = (0..names.len()).map(|c| values[c * width] > 0).collect();
    let mut out = Computed::default();
    for (i, month) in months.iter().enumerate() {
        let mut moves = Moves::default();
        for (c, had_before) in had.iter_mut().enumerate() {
            let (before, after) = (values[c * width + i], values[c * width + i + 1]);
            moves.add(before, after, *had_before);
            if before <= 0 && after > 0 {
                out.starts.push(Start {
                    customer: names[c].to_owned(),
                    month: month.month,
                    mrr: after,
                    reactivated: *had_before,
                });
            }
            *had_before |= after > 0;
        }
        out.months.push(MonthFigures {
            month: month.month.label(),
            mrr: moves.mrr,
            new: moves.new.0,
            expansion: moves.expansion,
            contraction: moves.contraction,
            churned: moves.churned.0,
            reactivated: moves.reactivated.0,
            active_subscribers: count(moves.active),
            new_subscribers: count(moves.new.1),
            reactivated_subscribers: count(moves.reactivated.1),
            churned_subscribers: count(moves.churned.1),
            arpu: moves.arpu(),
            customer_churn_rate: moves.customer_churn_rate(),
            revenue_churn_rate: moves.revenue_churn_rate(),
        });
    }
    let mut window = Moves::default();
    for c in 0..names.len() {
        // Whether the customer had MRR before the window only tells new from reactivated, which the rates merge.
        let (before, after) = (values[c * width + ago], values[c * width + now_point]);
        window.add(before, after, false);
        if after > 0 {
            out.customers_now.push((names[c].to_owned(), after));
        }
    }
    out.current = Current {
        mrr: window.mrr,
        arr: window.mrr.saturating_mul(12),
        active_subscribers: count(window.active),
        arpu: window.arpu(),
        customer_churn_rate: window.customer_churn_rate(),
        revenue_churn_rate: window.revenue_churn_rate(),
    };
    let mut unconverted: Vec<Unconverted> = unconverted
        .into_iter()
        .map(|(currency, (subscriptions, mrr))| Unconverted { currency: currency.to_owned(), subscriptions, mrr })
        .collect();
    unconverted.sort_by(|a, b| a.currency.cmp(&b.currency));
    out.unconverted = unconverted;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_count_and_step_back() {
        let m = |s| YearMonth::parse(s).unwrap();
        assert_eq!(m("2026-03"), YearMonth { year: 2026, month: 3 });
        assert_eq!(m("2026-03-31"), m("2026-03"));
        assert!(YearMonth::parse("2026-13").is_none() && YearMonth::parse("March").is_none());
        assert!(YearMonth::parse("1969-12").is_none(), "before 1970");
        assert_eq!(m("2025-11").count_to(m("2026-02")), 4);
        assert_eq!(m("2026-02").count_to(m("2025-11")), 0);
        assert_eq!(m("2026-02").minus(11), m("2025-03"));
        assert_eq!(m("2026-12").next(), m("2027-01"));
    }

    #[test]
    fn months_follow_the_zone_and_its_dst() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let ms = months(tz, YearMonth::parse("2026-03").unwrap(), YearMonth::parse("2026-04").unwrap());
        assert_eq!(ms.len(), 2);
        // 2026-03-01 00:00 CET = 2026-02-28 23:00 UTC; 2026-04-01 00:00 CEST = 2026-03-31 22:00 UTC.
        assert_eq!(ms[0].start, 1_772_319_600);
        assert_eq!(ms[0].end, 1_774_994_400);
        assert_eq!(ms[1].start, ms[0].end);
        assert_eq!(YearMonth::at(ms[0].end - 1, tz), ms[0].month);
    }

    #[test]
    fn rates_are_percentages_with_two_decimals_and_none_without_a_base() {
        assert_eq!(percent(1, 15), Some(6.67));
        assert_eq!(percent(0, 0), None);
    }
}
