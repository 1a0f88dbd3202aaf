//! The figures a report answers with (contract §3): the sums read for a group of visitors and of payments, and
//! the overview and series rows made from them, money in major units and rates as percentages.

use serde::Serialize;
use utoipa::ToSchema;

use super::Bucket;

/// Minor units to the major units the analytics API answers in, rounded to 2 decimals (contract §3).
pub fn major(minor: i64, currency: &str) -> f64 {
    let exponent = iso_currency::Currency::from_code(&currency.to_ascii_uppercase())
        .and_then(iso_currency::Currency::exponent)
        .unwrap_or(2);
    let value = float(minor) / 10f64.powi(i32::from(exponent));
    round2(value)
}

/// Sums and counts as floats for the answers' decimals: exact below 2^53, far above any sum of payments in
/// minor units or count of visitors.
#[allow(clippy::cast_precision_loss)]
fn float(n: i64) -> f64 {
    n as f64
}

#[allow(clippy::cast_precision_loss)]
fn count(n: u64) -> f64 {
    n as f64
}

/// Rounded to 2 decimals.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// `part` of `whole` as a percentage with 2 decimals (1.15 = 1.15%); 0 when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { round2(count(part) * 100.0 / count(whole)) }
}

/// A currency's symbol (`$`, `€`), or its code when it has none.
pub fn symbol(currency: &str) -> String {
    iso_currency::Currency::from_code(&currency.to_ascii_uppercase())
        .map_or_else(|| currency.to_owned(), |c| c.symbol().to_string())
}

/// What one visitor group did in a range: sums over its sessions, counting each visitor once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitTotals {
    pub visitors: u64,
    pub sessions: u64,
    pub bounces: u64,
    pub duration_ms: i64,
}

impl VisitTotals {
    /// Adds another group's (or slice's) sums to these.
    pub fn add(&mut self, other: Self) {
        self.visitors += other.visitors;
        self.sessions += other.sessions;
        self.bounces += other.bounces;
        self.duration_ms = self.duration_ms.saturating_add(other.duration_ms);
    }
}

/// What one group's payments came to, in minor units of the website currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaymentTotals {
    pub payments: u64,
    pub new: i64,
    pub renewal: i64,
    pub refunds: i64,
    /// Distinct visitors the payments are attributed to (known visitors only).
    pub paying_visitors: u64,
}

impl PaymentTotals {
    /// Adds another group's sums to these (paying visitors of disjoint groups).
    pub fn add(&mut self, other: Self) {
        self.payments += other.payments;
        self.new = self.new.saturating_add(other.new);
        self.renewal = self.renewal.saturating_add(other.renewal);
        self.refunds = self.refunds.saturating_add(other.refunds);
        self.paying_visitors += other.paying_visitors;
    }

    /// New and renewals, minus refunds.
    pub fn revenue(&self) -> i64 {
        self.new.saturating_add(self.renewal).saturating_sub(self.refunds)
    }
}

/// `GET analytics/overview`'s row.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Overview {
    pub visitors: u64,
    pub sessions: u64,
    /// Sessions of one pageview, % of sessions.
    pub bounce_rate: f64,
    /// Seconds from a session's first event to its last, averaged.
    pub avg_session_duration: f64,
    /// The website currency's symbol.
    #[schema(example = "$")]
    pub currency: String,
    /// New payments and renewals minus refunds, in major units.
    pub revenue: f64,
    pub payments: u64,
    pub revenue_per_visitor: f64,
    /// Paying visitors ÷ visitors, % (1.15 = 1.15%).
    pub conversion_rate: f64,
}

impl Overview {
    pub fn new(visits: VisitTotals, paid: PaymentTotals, currency: &str) -> Self {
        let revenue = major(paid.revenue(), currency);
        Self {
            visitors: visits.visitors,
            sessions: visits.sessions,
            bounce_rate: percent(visits.bounces, visits.sessions),
            avg_session_duration: if visits.sessions == 0 {
                0.0
            } else {
                round2(float(visits.duration_ms) / 1000.0 / count(visits.sessions))
            },
            currency: symbol(currency),
            revenue,
            payments: paid.payments,
            revenue_per_visitor: if visits.visitors == 0 { 0.0 } else { round2(revenue / count(visits.visitors)) },
            conversion_rate: percent(paid.paying_visitors, visits.visitors),
        }
    }
}

/// A series row's revenue, split.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct RevenueBreakdown {
    pub new: f64,
    pub renewal: f64,
    pub refund: f64,
}

/// `GET analytics/timeseries`'s rows.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct SeriesRow {
    /// The bucket's local start: `2026-05-21`, `2026-05-21 14:00`, `2026-05`.
    pub name: String,
    /// The bucket's start, RFC 3339 with the time zone's offset.
    pub timestamp: String,
    pub visitors: u64,
    pub sessions: u64,
    pub revenue: f64,
    pub payments: u64,
    #[serde(rename = "revenueBreakdown")]
    pub revenue_breakdown: RevenueBreakdown,
    pub conversion_rate: f64,
}

impl SeriesRow {
    pub fn new(bucket: &Bucket, visits: VisitTotals, paid: PaymentTotals, currency: &str) -> Self {
        Self {
            name: bucket.name.clone(),
            timestamp: bucket.timestamp.clone(),
            visitors: visits.visitors,
            sessions: visits.sessions,
            revenue: major(paid.revenue(), currency),
            payments: paid.payments,
            revenue_breakdown: RevenueBreakdown {
                new: major(paid.new, currency),
                renewal: major(paid.renewal, currency),
                refund: major(paid.refunds, currency),
            },
            conversion_rate: percent(paid.paying_visitors, visits.visitors),
        }
    }
}

/// The label of the row that holds payments whose visitor revlink never saw (contract §3).
pub const UNKNOWN_VISITOR: &str = "Unknown visitor";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::float_cmp)] // rounded to 2 decimals: the exact values are the point
    fn money_is_in_major_units_and_rates_are_percentages() {
        assert_eq!(major(12_345, "usd"), 123.45);
        assert_eq!(major(12_345, "JPY"), 12_345.0);
        assert_eq!(percent(1, 3), 33.33);
        assert_eq!(percent(1, 0), 0.0);
        assert_eq!(symbol("eur"), "€");
        let o = Overview::new(
            VisitTotals { visitors: 200, sessions: 250, bounces: 100, duration_ms: 250_000 },
            PaymentTotals { payments: 3, new: 10_000, renewal: 5_000, refunds: 1_000, paying_visitors: 2 },
            "usd",
        );
        assert_eq!((o.revenue, o.bounce_rate, o.avg_session_duration), (140.0, 40.0, 1.0));
        assert_eq!((o.revenue_per_visitor, o.conversion_rate), (0.7, 1.0));
    }
}
