//! Stripe Billing on the in-process fake (wiremock, 127.0.0.1): subscriptions in the pinned API version's shapes
//! (Clover: the billing period on each item, `discounts` a list whose coupon sits under `source` and is expanded only
//! when asked), listed as Stripe lists them — newest first, `limit`, `starting_after`, `has_more`, canceled ones only
//! with `status=all` — or refused with Stripe's 403 naming `rak_subscription_read`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

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
