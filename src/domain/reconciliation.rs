//! Reconciliation with a provider's ledger: revlink's gross, refunds and fees per UTC day and settlement currency
//! beside the ledger's, which days differ and how, and what the API and the pages show of the last check.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

/// A day's sums in one settlement currency, in its minor units: what was paid (gross), what of it was refunded
/// (refunds, counted on the day of the payment they refund) and the provider's fees on the payments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub gross: i64,
    pub refunds: i64,
    pub fees: i64,
}

impl Figures {
    pub fn add(&mut self, other: Figures) {
        self.gross = self.gross.saturating_add(other.gross);
        self.refunds = self.refunds.saturating_add(other.refunds);
        self.fees = self.fees.saturating_add(other.fees);
    }

    fn fields(self) -> [(&'static str, i64); 3] {
        [("gross", self.gross), ("refunds", self.refunds), ("fees", self.fees)]
    }
}

/// Figures per `(UTC date, upper-case currency)`.
pub type Ledger = BTreeMap<(NaiveDate, String), Figures>;

/// One figure of one day that differs.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Mismatch {
    /// The UTC day, `YYYY-MM-DD`.
    #[schema(example = "2026-05-21")]
    pub date: String,
    /// `gross`, `refunds` or `fees`.
    pub field: String,
    /// revlink's sum, in minor units of `currency`.
    pub revlink: i64,
    /// The sum of Stripe's balance transactions, likewise.
    pub stripe: i64,
    /// The settlement currency both sums are in.
    #[schema(example = "USD")]
    pub currency: String,
}

/// The UTC days a check covers: the `days` whole days before `today`.
pub fn window(today: NaiveDate, days: u32) -> Vec<NaiveDate> {
    let first = today.checked_sub_days(Days::new(u64::from(days))).unwrap_or(today);
    first.iter_days().take_while(|d| *d < today).collect()
}

/// The UTC date of a Unix time.
pub fn utc_date(unix: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp(unix, 0).map(|t| t.date_naive())
}

/// Unix seconds at the start of a UTC date.
pub fn start_of(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp())
}

/// Every figure of a day in `days` on which the two ledgers differ (a currency only one side has counts as zero
/// on the other), by date, currency and field.
pub fn compare(days: &[NaiveDate], revlink: &Ledger, stripe: &Ledger) -> Vec<Mismatch> {
    let days: BTreeSet<&NaiveDate> = days.iter().collect();
    let keys: BTreeSet<&(NaiveDate, String)> =
        revlink.keys().chain(stripe.keys()).filter(|(date, _)| days.contains(date)).collect();
    let mut out = Vec::new();
    for key in keys {
        let ours = revlink.get(key).copied().unwrap_or_default();
        let theirs = stripe.get(key).copied().unwrap_or_default();
        for ((field, a), (_, b)) in ours.fields().into_iter().zip(theirs.fields()) {
            if a != b {
                out.push(Mismatch {
                    date: key.0.to_string(),
                    field: field.into(),
                    revlink: a,
                    stripe: b,
                    currency: key.1.clone(),
                });
            }
        }
    }
    out
}

/// The distinct dates of `mismatches`.
pub fn dates_of(mismatches: &[Mismatch]) -> BTreeSet<NaiveDate> {
    mismatches.iter().filter_map(|m| NaiveDate::parse_from_str(&m.date, "%Y-%m-%d").ok()).collect()
}

/// The last reconciliation as `GET …/integrations/stripe` shows it (`null` until one was asked for).
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Reconciliation {
    /// `running` while a check runs, `error` when the last one could not finish, else `idle`.
    pub state: String,
    /// When the last complete check ended.
    pub checked_at: Option<String>,
    /// The UTC days it compared (the `reconcile_days` before the day it ran).
    pub days: u32,
    /// Of those, the days on which every figure matched (after reading the differing days again).
    pub matched_days: u32,
    /// What still differed, by day, figure and currency.
    pub mismatches: Vec<Mismatch>,
    /// Days that differed at first and matched once revlink read them from Stripe again.
    pub repaired_days: u32,
    /// Stripe balance transactions read, and Stripe requests made, by the last complete check.
    pub balance_transactions: u64,
    pub requests: u64,
    /// Why the last check could not finish (`state` is `error`).
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_window_is_the_whole_days_before_today() {
        let w = window(day("2026-05-21"), 3);
        assert_eq!(w, vec![day("2026-05-18"), day("2026-05-19"), day("2026-05-20")]);
        assert_eq!(start_of(day("2026-05-21")), 1_779_321_600);
        assert_eq!(utc_date(1_779_321_600 + 86_399), Some(day("2026-05-21")));
    }

    #[test]
    fn only_differing_figures_of_the_window_are_reported() {
        let usd = |d: &str| (day(d), "USD".to_owned());
        let f = |gross, refunds, fees| Figures { gross, refunds, fees };
        let ours: Ledger =
            [(usd("2026-05-19"), f(1000, 0, 59)), (usd("2026-05-20"), f(500, 0, 45)), (usd("2026-05-10"), f(1, 1, 1))]
                .into();
        let theirs: Ledger = [
            (usd("2026-05-19"), f(1000, 0, 59)),
            (usd("2026-05-20"), f(500, 200, 45)),
            ((day("2026-05-20"), "EUR".into()), f(0, 0, 3)),
        ]
        .into();
        let found = compare(&window(day("2026-05-21"), 3), &ours, &theirs);
        let short: Vec<_> = found.iter().map(|m| (m.date.as_str(), m.currency.as_str(), m.field.as_str())).collect();
        assert_eq!(short, vec![("2026-05-20", "EUR", "fees"), ("2026-05-20", "USD", "refunds")]);
        assert_eq!((found[1].revlink, found[1].stripe), (0, 200));
        assert_eq!(dates_of(&found).len(), 1);
    }
}
