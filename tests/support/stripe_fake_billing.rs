//! Stripe Billing on the in-process fake (wiremock, 127.0.0.1): subscriptions in the pinned API version's shapes
//! (Clover: the billing period on each item, `discounts` a list whose coupon sits under `source` and is expanded only
//! when asked), listed as Stripe lists them — newest first, `limit`, `starting_after`, `has_more`, canceled ones only
//! with `status=all` — or refused with Stripe's 403 naming `rak_subscription_read`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Datelike, Months, NaiveDate, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::stripe_account::{Account, NewCharge, unix_days_ago};
use crate::stripe_fake::missing_permission;

pub const SUBSCRIPTIONS: &str = "/v1/subscriptions";

/// A request's query: each parameter with its values.
pub type Query = HashMap<String, Vec<String>>;

/// A price of a subscription item.
pub struct Price {
    pub id: &'static str,
    pub unit_amount: i64,
    pub currency: &'static str,
    pub interval: &'static str,
    pub interval_count: u32,
    pub metered: bool,
}

impl Price {
    pub const fn monthly(id: &'static str, unit_amount: i64) -> Self {
        Self { id, unit_amount, currency: "usd", interval: "month", interval_count: 1, metered: false }
    }
}

/// A subscription item, with its current period.
pub fn item(sub: &str, price: &Price, quantity: i64, period_start: i64) -> Value {
    let period_end = period_start + 30 * 86_400;
    json!({
        "id": format!("si_{sub}_{}", price.id), "object": "subscription_item", "created": period_start,
        "current_period_start": period_start, "current_period_end": period_end, "discounts": [], "metadata": {},
        "quantity": if price.metered { Value::Null } else { json!(quantity) }, "subscription": sub, "tax_rates": [],
        "price": {
            "id": price.id, "object": "price", "active": true, "billing_scheme": "per_unit", "currency": price.currency,
            "livemode": false, "product": format!("prod_{}", price.id), "type": "recurring",
            "recurring": {"interval": price.interval, "interval_count": price.interval_count, "meter": null,
                "usage_type": if price.metered { "metered" } else { "licensed" }, "trial_period_days": null},
            "unit_amount": price.unit_amount, "unit_amount_decimal": price.unit_amount.to_string()
        }
    })
}

/// A discount with its coupon (expanded: the fake collapses it to an id when the list was not asked to expand it).
pub fn discount(sub: &str, customer: &str, duration: &str, percent_off: Option<f64>, amount_off: Option<i64>) -> Value {
    json!({
        "id": format!("di_{sub}"), "object": "discount", "checkout_session": null, "customer": customer, "end": null,
        "invoice": null, "invoice_item": null, "promotion_code": null, "start": 1_700_000_000, "subscription": sub,
        "subscription_item": null,
        "source": {"type": "coupon", "coupon": {
            "id": format!("co_{sub}"), "object": "coupon", "amount_off": amount_off,
            "currency": amount_off.map(|_| "usd"), "duration": duration,
            "duration_in_months": if duration == "repeating" { json!(3) } else { Value::Null },
            "livemode": false, "name": "Launch", "percent_off": percent_off, "valid": true}}
    })
}

/// A subscription (`status` as Stripe names it); change its fields (`ended_at`, `trial_end`…) on the value.
pub fn subscription(id: &str, customer: &str, currency: &str, status: &str, created: i64, items: Vec<Value>) -> Value {
    json!({
        "id": id, "object": "subscription", "application": null, "application_fee_percent": null,
        "automatic_tax": {"enabled": false, "liability": null, "disabled_reason": null},
        "billing_cycle_anchor": created, "billing_mode": {"type": "classic"}, "cancel_at": null,
        "cancel_at_period_end": false, "canceled_at": null,
        "cancellation_details": {"comment": null, "feedback": null, "reason": null},
        "collection_method": "charge_automatically", "created": created, "currency": currency, "customer": customer,
        "days_until_due": null, "default_payment_method": null, "description": null, "discounts": [],
        "ended_at": null, "invoice_settings": {"issuer": {"type": "self"}},
        "items": {"object": "list", "data": items, "has_more": false,
            "url": format!("/v1/subscription_items?subscription={id}")},
        "latest_invoice": null, "livemode": false, "metadata": {}, "pause_collection": null, "schedule": null,
        "start_date": created, "status": status, "test_clock": null, "trial_end": null, "trial_start": null,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}}
    })
}

/// The subscriptions of an account, served at `/v1/subscriptions` (before any other mock: priority 1).
#[derive(Clone, Default)]
pub struct Billing {
    pub subscriptions: Arc<Mutex<Vec<Value>>>,
    /// Every request answers Stripe's 403 naming `rak_subscription_read`.
    pub forbidden: Arc<AtomicBool>,
    /// The queries of the list requests made (verification's `limit=1` probes too).
    pub requests: Arc<Mutex<Vec<Query>>>,
}

impl Billing {
    pub async fn mount(&self, server: &MockServer) {
        Mock::given(method("GET"))
            .and(path(SUBSCRIPTIONS))
            .respond_with(self.clone())
            .with_priority(1)
            .mount(server)
            .await;
    }

    pub fn add(&self, subscription: Value) {
        self.subscriptions.lock().unwrap().push(subscription);
    }

    /// Changes the subscription `id` as Stripe would after an update.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Value)) {
        let mut subs = self.subscriptions.lock().unwrap();
        change(subs.iter_mut().find(|s| s["id"] == id).expect("known subscription"));
    }

    /// The import's requests (not verification's `limit=1` probes).
    pub fn import_requests(&self) -> Vec<Query> {
        let all = self.requests.lock().unwrap();
        all.iter().filter(|q| q.get("limit").and_then(|l| l.first()).is_some_and(|l| l != "1")).cloned().collect()
    }
}

impl Respond for Billing {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut q = Query::new();
        for (k, v) in request.url.query_pairs() {
            q.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        self.requests.lock().unwrap().push(q.clone());
        if self.forbidden.load(Ordering::SeqCst) {
            return missing_permission("rak_subscription_read");
        }
        let first = |k: &str| q.get(k).and_then(|v| v.first()).cloned();
        let expand = q.get("expand[]").cloned().unwrap_or_default();
        let all = first("status").as_deref() == Some("all");
        let mut rows: Vec<Value> = self
            .subscriptions
            .lock()
            .unwrap()
            .iter()
            .filter(|s| all || !matches!(s["status"].as_str(), Some("canceled" | "incomplete_expired")))
            .cloned()
            .collect();
        for s in &mut rows {
            let coupons = expand.iter().any(|e| e == "data.discounts.source.coupon");
            let discounts = expand.iter().any(|e| e.starts_with("data.discounts"));
            for d in s["discounts"].as_array_mut().into_iter().flatten() {
                if !discounts {
                    *d = d["id"].clone();
                } else if !coupons {
                    d["source"]["coupon"] = d["source"]["coupon"]["id"].clone();
                }
            }
        }
        rows.sort_by_key(|s| (s["created"].as_i64().unwrap(), s["id"].as_str().unwrap().to_owned()));
        rows.reverse();
        if let Some(after) = first("starting_after") {
            let Some(at) = rows.iter().position(|s| s["id"] == after.as_str()) else {
                return ResponseTemplate::new(400).set_body_json(json!({"error": {"code": "resource_missing",
                    "message": format!("No such subscription: '{after}'"), "param": "starting_after",
                    "type": "invalid_request_error"}}));
            };
            rows.drain(..=at);
        }
        let limit: usize = first("limit").map_or(10, |l| l.parse().unwrap());
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        ResponseTemplate::new(200)
            .set_body_json(json!({"object": "list", "url": SUBSCRIPTIONS, "has_more": has_more, "data": rows}))
    }
}

/// Noon UTC of day `day` of the month `back` months before this one.
pub fn day(back: u32, day: u32) -> i64 {
    let this = NaiveDate::from_ymd_opt(Utc::now().year(), Utc::now().month(), 1).unwrap();
    let month = this - Months::new(back);
    month.with_day(day).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp()
}

pub const BASIC: Price = Price::monthly("price_basic", 1000);
pub const PRO: Price = Price::monthly("price_pro", 3000);
pub const SEAT: Price = Price::monthly("price_seat", 500);
pub const LARGE: Price = Price::monthly("price_large", 2000);
pub const YEARLY: Price = Price {
    id: "price_yearly",
    unit_amount: 24_000,
    currency: "usd",
    interval: "year",
    interval_count: 1,
    metered: false,
};
pub const METERED: Price = Price { metered: true, ..Price::monthly("price_api_calls", 5) };
pub const EURO: Price = Price { currency: "eur", ..Price::monthly("price_euro", 2000) };
pub const POUND: Price = Price { currency: "gbp", ..Price::monthly("price_pound", 1500) };

/// Nine subscriptions whose moves all lie two months back or more, so the last 30 days are quiet. By hand (USD
/// cents, M = this month): A Basic 1,000 from M-5; B yearly 24,000 with a forever 50 % coupon = 1,000 from M-4;
/// C Pro 3,000 from M-5, ended M-3; D trialing now: 0; E metered only: 0; F 20.00 EUR from M-3, its customer's
/// payment settled 20.00 EUR as 22.00 USD: 2,200; G 2 seats × 500 past due = 1,000 from M-4; H 2,000 from M-5,
/// unpaid since its period began on M-3 day 4 (inferred); I 15.00 GBP, no rate: apart.
/// M-5: 6,000 (new 6,000; 3 subscribers). M-4: 8,000 (new 2,000; 5). M-3: 5,200 (new 2,200, churned 5,000; 4;
/// churn 2 / (5 + 1) = 33.33 %, revenue churn 5,000 / 8,000 = 62.5 %). M-2 to M: 5,200, 4 subscribers.
pub fn account() -> (Account, Billing) {
    let account = Account::default();
    account.with(|d| {
        d.charge(NewCharge {
            amount: 2000,
            currency: "eur",
            settled: Some((2200, "usd")),
            customer: "cus_f",
            metadata: json!({"datafast_visitor_id": "v-from-google"}),
            created: unix_days_ago(20),
            ..Default::default()
        });
    });
    let billing = Billing::default();
    billing.add(subscription("sub_a", "cus_a", "usd", "active", day(5, 2), vec![item("sub_a", &BASIC, 1, day(0, 2))]));
    let mut b = subscription("sub_b", "cus_b", "usd", "active", day(4, 2), vec![item("sub_b", &YEARLY, 1, day(4, 2))]);
    b["discounts"] = json!([discount("sub_b", "cus_b", "forever", Some(50.0), None)]);
    billing.add(b);
    let mut c = subscription("sub_c", "cus_c", "usd", "canceled", day(5, 3), vec![item("sub_c", &PRO, 1, day(4, 3))]);
    (c["canceled_at"], c["ended_at"]) = (json!(day(3, 5)), json!(day(3, 5)));
    billing.add(c);
    let now = Utc::now().timestamp();
    let mut d = subscription("sub_d", "cus_d", "usd", "trialing", now - 86_400, vec![item("sub_d", &PRO, 1, now)]);
    (d["trial_start"], d["trial_end"]) = (json!(now - 86_400), json!(now + 13 * 86_400));
    billing.add(d);
    billing.add(subscription(
        "sub_e",
        "cus_e",
        "usd",
        "active",
        day(4, 3),
        vec![item("sub_e", &METERED, 1, day(0, 3))],
    ));
    billing.add(subscription("sub_f", "cus_f", "eur", "active", day(3, 2), vec![item("sub_f", &EURO, 1, day(0, 2))]));
    billing.add(subscription("sub_g", "cus_g", "usd", "past_due", day(4, 3), vec![item("sub_g", &SEAT, 2, day(1, 3))]));
    billing.add(subscription("sub_h", "cus_h", "usd", "unpaid", day(5, 4), vec![item("sub_h", &LARGE, 1, day(3, 4))]));
    billing.add(subscription("sub_i", "cus_i", "gbp", "active", day(3, 6), vec![item("sub_i", &POUND, 1, day(0, 6))]));
    (account, billing)
}
