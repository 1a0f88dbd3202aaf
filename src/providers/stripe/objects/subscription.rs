//! Stripe's subscription as the import lists it (`lists::SUBSCRIPTIONS`: every status, each
//! discount's coupon expanded — four levels, the most Stripe expands), in the shapes of the pinned API version (Clover): the billing period is
//! on the items (since 2025-03-31.basil), discounts are a list whose coupon is under `source` (since
//! 2025-09-30.clover). The older shapes (period on the subscription, one `discount` with its `coupon`) are still
//! read, for servers such as localstripe. Pure: how one object becomes a `NewSubscription`.

use serde::Deserialize;

use super::{Customer, Expandable, HasId, List};
use crate::domain::mrr::plan::{Discount as PlanDiscount, Duration, Interval, Item, UsageType};
use crate::domain::mrr::{NewSubscription, Plan, Status};

#[derive(Debug, Clone, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub customer: Expandable<Customer>,
    pub status: String,
    pub currency: String,
    pub created: i64,
    pub start_date: Option<i64>,
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    #[serde(default)]
    pub cancel_at_period_end: bool,
    pub items: List<SubscriptionItem>,
    #[serde(default)]
    pub discounts: Vec<Expandable<Discount>>,
    /// Before 2025-03-31.basil: the one discount, its coupon included.
    pub discount: Option<Discount>,
    /// Before 2025-03-31.basil: the period, on the subscription.
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionItem {
    pub id: String,
    pub price: Price,
    pub quantity: Option<i64>,
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Price {
    pub id: String,
    pub unit_amount: Option<i64>,
    pub unit_amount_decimal: Option<String>,
    pub recurring: Option<Recurring>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Recurring {
    pub interval: String,
    #[serde(default = "one")]
    pub interval_count: u32,
    #[serde(default = "licensed")]
    pub usage_type: String,
}

fn one() -> u32 {
    1
}

fn licensed() -> String {
    "licensed".into()
}

#[derive(Debug, Clone, Deserialize)]
pub struct Discount {
    #[serde(default)]
    pub id: String,
    pub source: Option<DiscountSource>,
    /// Before 2025-09-30.clover the coupon was on the discount itself, always expanded.
    pub coupon: Option<Coupon>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DiscountSource {
    pub coupon: Option<Expandable<Coupon>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Coupon {
    pub id: String,
    pub duration: String,
    pub percent_off: Option<f64>,
    pub amount_off: Option<i64>,
    pub currency: Option<String>,
}

impl HasId for Subscription {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for Discount {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for Coupon {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Discount {
    fn coupon(&self) -> Option<&Coupon> {
        self.source.as_ref().and_then(|s| s.coupon.as_ref()).and_then(Expandable::object).or(self.coupon.as_ref())
    }
}

impl Price {
    /// The unit amount in minor units (a decimal one rounded; `None` for tiered prices, which have none).
    fn amount(&self) -> Option<i64> {
        self.unit_amount.or_else(|| {
            #[allow(clippy::cast_possible_truncation)] // a price far below i64::MAX
            self.unit_amount_decimal.as_deref().and_then(|d| d.parse::<f64>().ok()).map(|d| d.round() as i64)
        })
    }
}

impl Subscription {
    /// The subscription as revlink stores it. Items without a recurring price (none should have one) and
    /// discounts whose coupon was not expanded (none should be) are left out of the plan.
    pub fn to_new(&self) -> NewSubscription {
        let items: Vec<Item> = self
            .items
            .data
            .iter()
            .filter_map(|i| {
                let recurring = i.price.recurring.as_ref()?;
                Some(Item {
                    price: i.price.id.clone(),
                    unit_amount: i.price.amount(),
                    interval: Interval::parse(&recurring.interval)?,
                    interval_count: recurring.interval_count.max(1),
                    usage_type: if recurring.usage_type == "metered" {
                        UsageType::Metered
                    } else {
                        UsageType::Licensed
                    },
                    quantity: i.quantity.unwrap_or(1),
                })
            })
            .collect();
        let discounts = self
            .discounts
            .iter()
            .filter_map(Expandable::object)
            .chain(self.discount.as_ref())
            .filter_map(Discount::coupon)
            .filter_map(|c| {
                Some(PlanDiscount {
                    coupon: c.id.clone(),
                    duration: Duration::parse(&c.duration)?,
                    percent_off: c.percent_off,
                    amount_off: c.amount_off,
                    currency: c.currency.as_ref().map(|c| c.to_ascii_uppercase()),
                })
            })
            .collect();
        let starts = self.items.data.iter().filter_map(|i| i.current_period_start);
        let ends = self.items.data.iter().filter_map(|i| i.current_period_end);
        NewSubscription {
            id: self.id.clone(),
            customer: self.customer.id().to_owned(),
            currency: self.currency.to_ascii_uppercase(),
            status: Status::parse(&self.status),
            created: self.created,
            start_date: self.start_date,
            trial_start: self.trial_start,
            trial_end: self.trial_end,
            cancel_at: self.cancel_at,
            canceled_at: self.canceled_at,
            ended_at: self.ended_at,
            cancel_at_period_end: self.cancel_at_period_end,
            current_period_start: starts.min().or(self.current_period_start),
            current_period_end: ends.max().or(self.current_period_end),
            plan: Plan::new(items, discounts),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Stripe's example subscription (fixtures3), trimmed, with a forever coupon expanded under `source`.
    fn clover() -> serde_json::Value {
        let coupon = json!({"id": "Z4OV52SU", "object": "coupon", "amount_off": null, "currency": "usd",
            "duration": "forever", "duration_in_months": null, "percent_off": 25.5, "valid": true});
        let discount = json!({"id": "di_1Pgc6rB7WZ01zgkW7Al8Fal9", "object": "discount",
            "customer": "cus_QXg1o8vcGmoR32", "end": null, "start": 1_234_567_890,
            "subscription": "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw", "source": {"type": "coupon", "coupon": coupon}});
        let price = json!({"id": "price_1PgafmB7WZ01zgkW6dKueIc5", "object": "price", "active": true,
            "billing_scheme": "per_unit", "currency": "usd", "product": "prod_QXg1hqf4jFNsqG",
            "recurring": {"interval": "month", "interval_count": 1, "meter": null, "usage_type": "licensed",
                "trial_period_days": null},
            "type": "recurring", "unit_amount": 2000, "unit_amount_decimal": "2000"});
        let item = json!({"id": "si_QXhVnC2h0Jczwc", "object": "subscription_item", "created": 1_721_954_054,
            "current_period_end": 1_724_632_454, "current_period_start": 1_721_954_054, "discounts": [],
            "metadata": {}, "quantity": 2, "subscription": "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw", "tax_rates": [],
            "price": price});
        json!({
            "id": "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw", "object": "subscription", "application": null,
            "billing_cycle_anchor": 1_234_567_890, "cancel_at": null, "cancel_at_period_end": false,
            "canceled_at": null, "collection_method": "charge_automatically", "created": 1_234_567_890,
            "currency": "usd", "customer": "cus_QXg1o8vcGmoR32", "default_payment_method": null,
            "discounts": [discount], "ended_at": null,
            "items": {"object": "list", "has_more": false, "data": [item],
                "url": "/v1/subscription_items?subscription=sub_1Pgc6rB7WZ01zgkWNy0Cn5nw"},
            "livemode": false, "metadata": {}, "start_date": 1_234_567_890, "status": "active",
            "trial_end": null, "trial_start": null
        })
    }

    #[test]
    fn a_clover_subscription_becomes_a_plan_with_its_period_from_the_items() {
        let sub: Subscription = serde_json::from_value(clover()).unwrap();
        let new = sub.to_new();
        assert_eq!(
            (new.currency.as_str(), new.status, new.customer.as_str()),
            ("USD", Status::Active, "cus_QXg1o8vcGmoR32")
        );
        assert_eq!((new.current_period_start, new.current_period_end), (Some(1_721_954_054), Some(1_724_632_454)));
        assert_eq!(new.plan.items.len(), 1);
        assert_eq!((new.plan.items[0].unit_amount, new.plan.items[0].quantity), (Some(2000), 2));
        assert_eq!(new.plan.discounts[0].duration, Duration::Forever);
        assert!((new.plan.monthly("USD") - 2980.0).abs() < 1e-9, "4,000 less 25.5 %");
    }

    #[test]
    fn older_shapes_and_unexpanded_coupons_are_read_too() {
        let mut old = clover();
        old["discounts"] = json!(["di_1"]);
        old["discount"] = json!({"id": "di_1", "object": "discount",
            "coupon": {"id": "HALF", "duration": "once", "percent_off": 50.0, "amount_off": null, "currency": null}});
        old["current_period_start"] = json!(100);
        old["items"]["data"][0].as_object_mut().unwrap().remove("current_period_start");
        old["items"]["data"][0]["price"]["recurring"]["usage_type"] = json!("metered");
        let new = serde_json::from_value::<Subscription>(old).unwrap().to_new();
        assert_eq!(new.current_period_start, Some(100));
        assert_eq!(new.plan.discounts[0].duration, Duration::Once);
        assert_eq!(new.plan.items[0].usage_type, UsageType::Metered);
    }
}
