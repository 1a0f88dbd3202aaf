//! What a subscription bills, as far as MRR is concerned: its items (price, quantity, billing interval, licensed or
//! metered) and its discounts (coupon duration, percent or amount off), and the monthly value they come to by
//! Stripe's billing-analytics rules: licensed items only, normalised to a month, only *forever* discounts deducted.
//! Stored as JSON with each subscription and each of its snapshots (`db::subscriptions`), so field names are stable.

use serde::{Deserialize, Serialize};

/// A price's billing interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "day" => Some(Self::Day),
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            "year" => Some(Self::Year),
            _ => None,
        }
    }

    /// How many of this interval make one month, as a fraction: a month is 1/12 year, 52/12 weeks, 365/12 days.
    fn per_month(self) -> (f64, f64) {
        match self {
            Self::Day => (365.0, 12.0),
            Self::Week => (52.0, 12.0),
            Self::Month => (1.0, 1.0),
            Self::Year => (1.0, 12.0),
        }
    }

    /// What one amount billed every `count` of this interval comes to per month.
    pub fn monthly(self, amount: f64, count: u32) -> f64 {
        let (num, den) = self.per_month();
        amount * num / (den * f64::from(count.max(1)))
    }
}

/// `licensed`: a fixed quantity billed in advance (counts toward MRR); `metered`: billed on usage (does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UsageType {
    Licensed,
    Metered,
}

/// One subscription item: its price and quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub price: String,
    /// Minor units of the subscription's currency per unit and interval; `None` for tiered prices.
    pub unit_amount: Option<i64>,
    pub interval: Interval,
    pub interval_count: u32,
    pub usage_type: UsageType,
    pub quantity: i64,
}

/// How long a coupon applies: only `forever` changes MRR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Duration {
    Forever,
    Once,
    Repeating,
}

impl Duration {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "forever" => Some(Self::Forever),
            "once" => Some(Self::Once),
            "repeating" => Some(Self::Repeating),
            _ => None,
        }
    }
}

/// A discount on the whole subscription, from its coupon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discount {
    pub coupon: String,
    pub duration: Duration,
    pub percent_off: Option<f64>,
    /// Minor units of `currency`, taken off each invoice.
    pub amount_off: Option<i64>,
    pub currency: Option<String>,
}

/// Everything of a subscription that its MRR depends on. Items and discounts are kept sorted, so two reads of an
/// unchanged subscription compare (and serialise) equal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub items: Vec<Item>,
    #[serde(default)]
    pub discounts: Vec<Discount>,
}

impl Plan {
    pub fn new(mut items: Vec<Item>, mut discounts: Vec<Discount>) -> Self {
        items.sort_by(|a, b| (&a.price, a.quantity).cmp(&(&b.price, b.quantity)));
        discounts.sort_by(|a, b| a.coupon.cmp(&b.coupon));
        Self { items, discounts }
    }

    /// The monthly value in minor units of `currency` (the subscription's), before rounding: Σ unit amount ×
    /// quantity of the licensed items normalised to a month, less the forever discounts (a percentage of it, or
    /// an amount off each invoice normalised by the subscription's billing interval), never below zero.
    pub fn monthly(&self, currency: &str) -> f64 {
        let licensed = self.items.iter().filter(|i| i.usage_type == UsageType::Licensed);
        #[allow(clippy::cast_precision_loss)] // minor units far below 2^52
        let mut value: f64 = licensed
            .clone()
            .map(|i| i.interval.monthly(i.unit_amount.unwrap_or(0) as f64 * i.quantity.max(0) as f64, i.interval_count))
            .sum();
        // An amount off applies to each invoice: once per billing interval of the subscription.
        let billing = licensed.map(|i| (i.interval, i.interval_count)).next().unwrap_or((Interval::Month, 1));
        for discount in self.discounts.iter().filter(|d| d.duration == Duration::Forever) {
            if let Some(percent) = discount.percent_off {
                value *= 1.0 - percent.clamp(0.0, 100.0) / 100.0;
            } else if let Some(off) = discount.amount_off
                && discount.currency.as_deref().is_none_or(|c| c.eq_ignore_ascii_case(currency))
            {
                #[allow(clippy::cast_precision_loss)]
                let off = billing.0.monthly(off as f64, billing.1);
                value -= off;
            }
        }
        value.max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn item(unit_amount: i64, interval: Interval, interval_count: u32, quantity: i64) -> Item {
        Item {
            price: format!("price_{unit_amount}_{interval:?}"),
            unit_amount: Some(unit_amount),
            interval,
            interval_count,
            usage_type: UsageType::Licensed,
            quantity,
        }
    }

    fn coupon(duration: Duration, percent_off: Option<f64>, amount_off: Option<i64>) -> Discount {
        Discount { coupon: "c".into(), duration, percent_off, amount_off, currency: amount_off.map(|_| "usd".into()) }
    }

    #[test]
    #[allow(clippy::float_cmp)] // exact binary fractions
    fn intervals_are_normalised_to_a_month() {
        let plan = |i: Item| Plan::new(vec![i], vec![]).monthly("USD");
        assert_eq!(plan(item(1000, Interval::Month, 1, 1)), 1000.0);
        assert_eq!(plan(item(12_000, Interval::Year, 1, 1)), 1000.0, "yearly ÷ 12");
        assert_eq!(plan(item(300, Interval::Week, 1, 1)), 1300.0, "weekly × 52/12");
        assert_eq!(plan(item(1200, Interval::Day, 1, 1)), 36_500.0, "daily × 365/12");
        assert_eq!(plan(item(9000, Interval::Month, 3, 1)), 3000.0, "interval_count respected");
        assert_eq!(plan(item(24_000, Interval::Year, 2, 1)), 1000.0);
        assert_eq!(plan(item(800, Interval::Month, 1, 5)), 4000.0, "× quantity");
    }

    #[test]
    #[allow(clippy::float_cmp)]
    fn metered_items_and_finite_coupons_do_not_count() {
        let mut metered = item(5, Interval::Month, 1, 1);
        metered.usage_type = UsageType::Metered;
        let plan = Plan::new(vec![item(1000, Interval::Month, 1, 1), metered], vec![]);
        assert_eq!(plan.monthly("USD"), 1000.0);
        let once = Plan::new(vec![item(3000, Interval::Month, 1, 1)], vec![coupon(Duration::Once, Some(50.0), None)]);
        assert_eq!(once.monthly("USD"), 3000.0);
        let repeating =
            Plan::new(vec![item(3000, Interval::Month, 1, 1)], vec![coupon(Duration::Repeating, None, Some(500))]);
        assert_eq!(repeating.monthly("USD"), 3000.0);
    }

    #[test]
    #[allow(clippy::float_cmp)]
    fn forever_coupons_reduce_mrr_per_invoice() {
        let pct = Plan::new(vec![item(3000, Interval::Month, 1, 1)], vec![coupon(Duration::Forever, Some(20.0), None)]);
        assert_eq!(pct.monthly("USD"), 2400.0);
        let off =
            Plan::new(vec![item(30_000, Interval::Year, 1, 1)], vec![coupon(Duration::Forever, None, Some(6000))]);
        assert_eq!(off.monthly("USD"), 2000.0, "6,000 off a yearly invoice is 500 a month");
        let too_much =
            Plan::new(vec![item(1000, Interval::Month, 1, 1)], vec![coupon(Duration::Forever, None, Some(5000))]);
        assert_eq!(too_much.monthly("USD"), 0.0);
        let other_currency =
            Plan::new(vec![item(1000, Interval::Month, 1, 1)], vec![coupon(Duration::Forever, None, Some(100))]);
        assert_eq!(other_currency.monthly("EUR"), 1000.0, "an amount off in another currency does not apply");
    }

    #[test]
    fn plans_compare_equal_whatever_order_stripe_listed_them_in() {
        let a = Plan::new(vec![item(1, Interval::Month, 1, 1), item(2, Interval::Month, 1, 1)], vec![]);
        let b = Plan::new(vec![item(2, Interval::Month, 1, 1), item(1, Interval::Month, 1, 1)], vec![]);
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    }
}
