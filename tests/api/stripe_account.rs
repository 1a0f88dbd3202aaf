//! A Stripe account with history, served by wiremock on 127.0.0.1: charges (with their balance
//! transactions and payment intents, expandable), checkout sessions, invoices (old and new API shapes)
//! and refunds, listed the way Stripe lists them — `limit`, `starting_after`, `created[gt]`, `has_more`,
//! newest first (or oldest first, as localstripe does) — plus faults a test switches on and off.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::stripe_fake::{balance, invalid_key, missing_permission, rate_limited, server_error};

/// A fault applied to the next requests of the import (verification probes are never faulted).
#[derive(Clone, Debug)]
pub enum Fault {
    /// The next `n` list/object requests answer 429.
    RateLimited(usize),
    /// The next `n` answer 500.
    ServerError(usize),
    /// Every request answers 401 from now on (the key was revoked).
    Revoked,
    /// Requests to this list answer 403 naming this permission (someone set it to None in Stripe).
    Forbidden(&'static str, &'static str),
}

#[derive(Default)]
pub struct Data {
    pub charges: Vec<Value>,
    pub balance_transactions: HashMap<String, Value>,
    pub payment_intents: HashMap<String, Value>,
    pub sessions: Vec<Value>,
    pub invoices: Vec<Value>,
    pub refunds: Vec<Value>,
    pub oldest_first: bool,
    pub fault: Option<Fault>,
    /// Each answer to the import's requests waits this long.
    pub delay: Duration,
    next: u64,
}

#[derive(Clone, Default)]
pub struct Account {
    pub data: Arc<Mutex<Data>>,
    /// Requests the import made (not counting the balance and `limit=1` verification probes).
    pub import_calls: Arc<AtomicUsize>,
    pub faulted: Arc<AtomicUsize>,
}

pub fn unix_days_ago(days: i64) -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() - days * 86_400
}

/// What a test says about one charge.
#[derive(Clone, Debug)]
pub struct NewCharge {
    pub amount: i64,
    pub currency: &'static str,
    pub created: i64,
    pub metadata: Value,
    pub intent_metadata: Option<Value>,
    /// The balance transaction's amount and currency when the account settles in another currency.
    pub settled: Option<(i64, &'static str)>,
    pub refunded: i64,
    pub status: &'static str,
    pub customer: &'static str,
}

impl Default for NewCharge {
    fn default() -> Self {
        Self {
            amount: 2900,
            currency: "usd",
            created: unix_days_ago(10),
            metadata: json!({}),
            intent_metadata: None,
            settled: None,
            refunded: 0,
            status: "succeeded",
            customer: "cus_NffrFeUfNV2Hib",
        }
    }
}

impl Data {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}_3Pfake{:010}", self.next)
    }

    /// Adds a charge with its payment intent and balance transaction; answers the charge id and intent id.
    pub fn charge(&mut self, c: NewCharge) -> (String, String) {
        let (ch, pi, txn) = (self.id("ch"), self.id("pi"), self.id("txn"));
        let (bt_amount, bt_currency) = c.settled.unwrap_or((c.amount, c.currency));
        let fee = bt_amount * 29 / 1000 + 30;
        self.balance_transactions.insert(
            txn.clone(),
            json!({"id": txn, "object": "balance_transaction", "amount": bt_amount, "currency": bt_currency,
                   "fee": fee, "net": bt_amount - fee, "created": c.created, "status": "available",
                   "type": "charge", "reporting_category": "charge", "source": ch,
                   "exchange_rate": if c.settled.is_some() { json!(1.1) } else { Value::Null }}),
        );
        self.payment_intents.insert(
            pi.clone(),
            json!({"id": pi, "object": "payment_intent", "amount": c.amount, "amount_received": c.amount,
                   "currency": c.currency, "created": c.created, "status": "succeeded", "latest_charge": ch,
                   "livemode": false, "metadata": c.intent_metadata.clone().unwrap_or(json!({}))}),
        );
        let paid = c.status == "succeeded";
        self.charges.push(json!({
            "id": ch, "object": "charge", "amount": c.amount, "amount_captured": if paid { c.amount } else { 0 },
            "amount_refunded": c.refunded, "balance_transaction": if paid { json!(txn) } else { Value::Null },
            "billing_details": {"address": null, "email": "buyer@example.com", "name": "Jenny Rosen", "phone": null},
            "captured": paid, "created": c.created, "currency": c.currency, "customer": c.customer,
            "disputed": false, "livemode": false, "metadata": c.metadata, "paid": paid, "payment_intent": pi,
            "refunded": c.refunded == c.amount, "status": c.status
        }));
        (ch, pi)
    }

    pub fn charge_mut(&mut self, id: &str) -> &mut Value {
        self.charges.iter_mut().find(|c| c["id"] == id).expect("known charge")
    }

    /// Refunds `amount` of a charge now (the charge and the refund list both change, as in Stripe).
    pub fn refund(&mut self, charge: &str, amount: i64) {
        let re = self.id("re");
        let c = self.charge_mut(charge);
        let refunded = c["amount_refunded"].as_i64().unwrap() + amount;
        c["amount_refunded"] = json!(refunded);
        c["refunded"] = json!(refunded == c["amount"].as_i64().unwrap());
        let pi = c["payment_intent"].clone();
        self.refunds.push(json!({"id": re, "object": "refund", "amount": amount, "charge": charge,
            "created": unix_days_ago(0), "currency": "usd", "metadata": {}, "payment_intent": pi,
            "reason": null, "status": "succeeded"}));
    }

    /// A checkout session paid with `payment_intent`, or (subscription mode) with `invoice`.
    pub fn session(&mut self, payment_intent: Option<&str>, invoice: Option<&str>, metadata: Value, created: i64) {
        let cs = self.id("cs_test");
        let mode = if invoice.is_some() { "subscription" } else { "payment" };
        self.sessions.push(json!({"id": cs, "object": "checkout.session", "created": created, "mode": mode,
            "payment_intent": payment_intent, "invoice": invoice, "metadata": metadata,
            "payment_status": "paid", "status": "complete", "livemode": false}));
    }

    /// An invoice paid by a charge: in the pinned API version's shape (`payments`, included when expanded; a
    /// subscription's under `parent`) or the old one localstripe sends (`charge`, `subscription`).
    pub fn invoice(&mut self, charge: &str, reason: &str, created: i64, old_shape: bool) -> String {
        let id = self.id("in");
        let subscription = reason.starts_with("subscription").then(|| format!("sub_{id}"));
        let mut invoice = json!({"id": id, "object": "invoice", "billing_reason": reason, "created": created,
            "status": "paid", "livemode": false});
        if old_shape {
            invoice["charge"] = json!(charge);
            invoice["subscription"] = json!(subscription);
        } else {
            invoice["parent"] = match subscription {
                Some(sub) => json!({"type": "subscription_details", "quote_details": null,
                    "subscription_details": {"metadata": {}, "subscription": sub}}),
                None => Value::Null,
            };
            invoice["payments"] = json!({"object": "list", "has_more": false, "url": "/v1/invoice_payments",
                "data": [{"id": format!("inpay_{id}"), "object": "invoice_payment", "invoice": id, "is_default": true,
                          "status": "paid", "payment": {"type": "charge", "charge": charge}}]});
        }
        self.invoices.push(invoice);
        id
    }
}

fn query(request: &Request) -> HashMap<String, Vec<String>> {
    let mut q: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in request.url.query_pairs() {
        q.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    q
}

fn first<'a>(q: &'a HashMap<String, Vec<String>>, key: &str) -> Option<&'a str> {
    q.get(key).and_then(|v| v.first()).map(String::as_str)
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"error": {"code": "resource_missing",
        "message": "No such object", "type": "invalid_request_error"}}))
}

impl Data {
    pub(crate) fn expand_charge(&self, mut c: Value, expand: &[String]) -> Value {
        for field in ["balance_transaction", "payment_intent"] {
            if expand.iter().any(|e| e.ends_with(field))
                && let Some(id) = c[field].as_str()
            {
                let map = if field == "payment_intent" { &self.payment_intents } else { &self.balance_transactions };
                c[field] = map[id].clone();
            }
        }
        c
    }

    fn list(&self, path: &str, q: &HashMap<String, Vec<String>>) -> ResponseTemplate {
        let expand = q.get("expand[]").cloned().unwrap_or_default();
        let source: Vec<Value> = match path {
            "/v1/charges" => self.charges.iter().map(|c| self.expand_charge(c.clone(), &expand)).collect(),
            "/v1/checkout/sessions" => self.sessions.clone(),
            "/v1/invoices" => self
                .invoices
                .iter()
                .map(|i| {
                    let mut i = i.clone();
                    if !expand.iter().any(|e| e == "data.payments") {
                        i.as_object_mut().unwrap().remove("payments");
                    }
                    i
                })
                .collect(),
            "/v1/refunds" => self.refunds.clone(),
            "/v1/payment_intents" => self.payment_intents.values().cloned().collect(),
            _ => return not_found(),
        };
        let gt: Option<i64> = first(q, "created[gt]").map(|v| v.parse().expect("created[gt] is a number"));
        let mut rows: Vec<Value> =
            source.into_iter().filter(|o| gt.is_none_or(|gt| o["created"].as_i64().unwrap() > gt)).collect();
        rows.sort_by_key(|o| (o["created"].as_i64().unwrap(), o["id"].as_str().unwrap().to_owned()));
        if !self.oldest_first {
            rows.reverse();
        }
        if let Some(after) = first(q, "starting_after") {
            let Some(at) = rows.iter().position(|o| o["id"] == after) else {
                return ResponseTemplate::new(400).set_body_json(json!({"error": {"code": "resource_missing",
                    "message": format!("No such object: '{after}'"), "param": "starting_after",
                    "type": "invalid_request_error"}}));
            };
            rows.drain(..=at);
        }
        let limit: usize = first(q, "limit").map_or(10, |l| l.parse().unwrap());
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        ResponseTemplate::new(200)
            .set_body_json(json!({"object": "list", "url": path, "has_more": has_more, "data": rows}))
    }
}

impl Respond for Account {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_owned();
        let q = query(request);
        let probe = path == "/v1/balance" || first(&q, "limit") == Some("1");
        let mut data = self.data.lock().unwrap();
        if path == "/v1/balance" {
            return ResponseTemplate::new(200).set_body_json(balance(false, &[(120_000, "usd")]));
        }
        if !probe {
            self.import_calls.fetch_add(1, Ordering::SeqCst);
            let answer = match &mut data.fault {
                Some(Fault::Revoked) => Some(invalid_key()),
                Some(Fault::Forbidden(list, permission)) if path == *list => Some(missing_permission(permission)),
                Some(Fault::RateLimited(n)) if *n > 0 => {
                    *n -= 1;
                    Some(rate_limited())
                }
                Some(Fault::ServerError(n)) if *n > 0 => {
                    *n -= 1;
                    Some(server_error())
                }
                _ => None,
            };
            if let Some(answer) = answer {
                self.faulted.fetch_add(1, Ordering::SeqCst);
                return answer;
            }
        }
        let delay = if probe { Duration::ZERO } else { data.delay };
        let answer = if let Some(id) = path.strip_prefix("/v1/charges/") {
            let expand = q.get("expand[]").cloned().unwrap_or_default();
            match data.charges.iter().find(|c| c["id"] == id) {
                Some(c) => ResponseTemplate::new(200).set_body_json(data.expand_charge(c.clone(), &expand)),
                None => not_found(),
            }
        } else {
            data.list(&path, &q)
        };
        answer.set_delay(delay)
    }
}

impl Account {
    pub async fn mount(&self, server: &MockServer) {
        Mock::given(wiremock::matchers::any()).respond_with(self.clone()).mount(server).await;
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Data) -> T) -> T {
        f(&mut self.data.lock().unwrap())
    }

    pub fn calls(&self) -> usize {
        self.import_calls.load(Ordering::SeqCst)
    }
}

impl Data {
    /// Starts this account's ids further on, so that two accounts in one test have different ones (as two Stripe
    /// accounts do).
    pub fn skip_ids(&mut self, n: u64) {
        self.next += n;
    }
}
