//! Stripe's ledger and disputes beside the account of `stripe_account` (wiremock on 127.0.0.1, Stripe's shapes of
//! API version 2026-02-25.clover): `/v1/balance_transactions` derived from the account's charges and refunds (and
//! its disputes' own balance transactions), `/v1/disputes`, `/v1/refunds/{id}`, and charges listed by
//! `created[gte]`/`created[lt]` (a day read again). Mounted ahead of the account, which answers everything else.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::stripe_account::{Account, Fault};
use crate::stripe_fake::missing_permission;

/// What Stripe charges for a dispute, in the settlement currency.
pub const DISPUTE_FEE: i64 = 1500;

#[derive(Clone, Default)]
pub struct Ledger {
    pub account: Account,
    pub disputes: Arc<Mutex<Vec<Value>>>,
    /// Balance transactions only the ledger has: Stripe disagreeing with what its lists return.
    pub extra: Arc<Mutex<Vec<Value>>>,
    /// Every request this part answered: path and query.
    pub requests: Arc<Mutex<Vec<String>>>,
    next: Arc<Mutex<u64>>,
}

/// The requests this part answers.
struct Paths;

impl Match for Paths {
    fn matches(&self, request: &Request) -> bool {
        let path = request.url.path();
        path == "/v1/disputes"
            || path == "/v1/balance_transactions"
            || path.starts_with("/v1/refunds/")
            || (path == "/v1/charges" && request.url.query_pairs().any(|(k, _)| k == "created[lt]"))
    }
}

fn query(request: &Request) -> HashMap<String, String> {
    request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A list page as Stripe answers it: filtered by `created[gt|gte|lt]`, newest first, from `starting_after`.
fn page(path: &str, mut rows: Vec<Value>, q: &HashMap<String, String>) -> ResponseTemplate {
    let bound = |k: &str| q.get(k).map(|v| v.parse::<i64>().expect("a unix time"));
    let (gt, gte, lt) = (bound("created[gt]"), bound("created[gte]"), bound("created[lt]"));
    rows.retain(|o| {
        let c = o["created"].as_i64().unwrap();
        gt.is_none_or(|b| c > b) && gte.is_none_or(|b| c >= b) && lt.is_none_or(|b| c < b)
    });
    rows.sort_by_key(|o| std::cmp::Reverse((o["created"].as_i64().unwrap(), o["id"].as_str().unwrap().to_owned())));
    if let Some(after) = q.get("starting_after") {
        let at = rows.iter().position(|o| o["id"] == after.as_str()).expect("a known cursor");
        rows.drain(..=at);
    }
    let limit: usize = q.get("limit").map_or(10, |l| l.parse().unwrap());
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    ResponseTemplate::new(200).set_body_json(json!({"object": "list", "url": path, "has_more": has_more, "data": rows}))
}

fn not_found(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"error": {"code": "resource_missing",
        "message": format!("No such refund: '{id}'"), "param": "id", "type": "invalid_request_error"}}))
}

/// A balance transaction as Stripe shows one.
pub fn balance_transaction(
    id: &str,
    amount: i64,
    fee: i64,
    currency: &str,
    created: i64,
    (kind, category): (&str, &str),
    source: &str,
) -> Value {
    json!({"id": id, "object": "balance_transaction", "amount": amount, "available_on": created + 172_800,
           "balance_type": "payments", "created": created, "currency": currency, "description": null,
           "exchange_rate": null, "fee": fee, "fee_details": [], "net": amount - fee,
           "reporting_category": category, "source": source, "status": "available", "type": kind})
}

impl Ledger {
    pub fn new(account: &Account) -> Self {
        Self { account: account.clone(), ..Self::default() }
    }

    /// Mounts the ledger, then the account behind it.
    pub async fn mount(&self, server: &MockServer) {
        Mock::given(Paths).respond_with(self.clone()).with_priority(1).mount(server).await;
        self.account.mount(server).await;
    }

    fn id(&self, prefix: &str) -> String {
        let mut next = self.next.lock().unwrap();
        *next += 1;
        format!("{prefix}_1PfakeLedger{:08}", *next)
    }

    /// The ledger: each paid charge's balance transaction, one per refund, the disputes' own, and the extras.
    pub fn entries(&self) -> Vec<Value> {
        let mut rows = Vec::new();
        self.account.with(|d| {
            for charge in &d.charges {
                if let Some(txn) = charge["balance_transaction"].as_str() {
                    rows.push(d.balance_transactions[txn].clone());
                }
            }
            for refund in &d.refunds {
                let charge = d.charges.iter().find(|c| c["id"] == refund["charge"]).expect("the refunded charge");
                let bt = &d.balance_transactions[charge["balance_transaction"].as_str().unwrap()];
                let amount = refund["amount"].as_i64().unwrap() * bt["amount"].as_i64().unwrap()
                    / charge["amount"].as_i64().unwrap();
                let id = refund["id"].as_str().unwrap();
                rows.push(balance_transaction(
                    &format!("txn_{id}"),
                    -amount,
                    0,
                    bt["currency"].as_str().unwrap(),
                    refund["created"].as_i64().unwrap(),
                    ("refund", "refund"),
                    id,
                ));
            }
        });
        for dispute in self.disputes.lock().unwrap().iter() {
            rows.extend(dispute["balance_transactions"].as_array().unwrap().iter().cloned());
        }
        rows.extend(self.extra.lock().unwrap().iter().cloned());
        rows
    }

    /// Opens a dispute of a charge at `opened`: Stripe withdraws the settled amount and its fee (none for an
    /// inquiry, `warning_…`). Answers the dispute id.
    pub fn dispute(&self, charge: &str, status: &str, opened: i64) -> String {
        let id = self.id("du");
        let (amount, currency, settled, settled_currency) = self.account.with(|d| {
            let c = d.charge_mut(charge);
            c["disputed"] = json!(true);
            let c = c.clone();
            let bt = &d.balance_transactions[c["balance_transaction"].as_str().unwrap()];
            (
                c["amount"].as_i64().unwrap(),
                c["currency"].clone(),
                bt["amount"].as_i64().unwrap(),
                bt["currency"].clone(),
            )
        });
        let withdrawn = if status.starts_with("warning_") {
            vec![]
        } else {
            vec![balance_transaction(
                &self.id("txn"),
                -settled,
                DISPUTE_FEE,
                settled_currency.as_str().unwrap(),
                opened,
                ("adjustment", "dispute"),
                &id,
            )]
        };
        self.disputes.lock().unwrap().push(json!({
            "id": id, "object": "dispute", "amount": amount, "balance_transactions": withdrawn, "charge": charge,
            "created": opened, "currency": currency, "enhanced_eligibility_types": [],
            "evidence": {"customer_email_address": null, "product_description": null, "receipt": null,
                         "uncategorized_text": null},
            "evidence_details": {"due_by": opened + 14 * 86_400, "enhanced_eligibility": {}, "has_evidence": false,
                                 "past_due": false, "submission_count": 0},
            "is_charge_refundable": false, "livemode": false, "metadata": {}, "payment_intent": null,
            "payment_method_details": {"card": {"brand": "visa", "case_type": "chargeback", "network_reason_code": "10.4"},
                                       "type": "card"},
            "reason": "fraudulent", "status": status
        }));
        id
    }

    /// The dispute is decided (or moves on): a won one gets its funds reinstated at `at`, the fee returned when
    /// `fee_returned`.
    pub fn decide(&self, dispute: &str, status: &str, at: i64, fee_returned: bool) {
        let reinstated = (status == "won").then(|| {
            let disputes = self.disputes.lock().unwrap();
            let d = disputes.iter().find(|d| d["id"] == dispute).expect("a known dispute");
            let first = d["balance_transactions"][0].clone();
            (-first["amount"].as_i64().unwrap(), first["currency"].as_str().unwrap().to_owned())
        });
        let bt = reinstated.map(|(amount, currency)| {
            let fee = if fee_returned { -DISPUTE_FEE } else { 0 };
            balance_transaction(
                &self.id("txn"),
                amount,
                fee,
                &currency,
                at,
                ("adjustment", "dispute_reversal"),
                dispute,
            )
        });
        let mut disputes = self.disputes.lock().unwrap();
        let d = disputes.iter_mut().find(|d| d["id"] == dispute).expect("a known dispute");
        d["status"] = json!(status);
        if let Some(bt) = bt {
            d["balance_transactions"].as_array_mut().unwrap().push(bt);
        }
    }

    /// How many requests this part answered to `path`.
    pub fn requests_to(&self, path: &str) -> usize {
        self.requests.lock().unwrap().iter().filter(|r| r.split('?').next() == Some(path)).count()
    }
}

impl Respond for Ledger {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_owned();
        let q = query(request);
        let probe = q.get("limit").is_some_and(|l| l == "1");
        if !probe {
            self.requests.lock().unwrap().push(format!("{path}?{}", request.url.query().unwrap_or_default()));
        }
        let forbidden = self.account.with(|d| match &d.fault {
            Some(Fault::Forbidden(list, permission)) if *list == path => Some(*permission),
            Some(Fault::Revoked) => Some("revoked"),
            _ => None,
        });
        match forbidden {
            Some("revoked") => return crate::stripe_fake::invalid_key(),
            Some(permission) => return missing_permission(permission),
            None => {}
        }
        match path.as_str() {
            "/v1/disputes" => page(&path, self.disputes.lock().unwrap().clone(), &q),
            "/v1/balance_transactions" => page(&path, self.entries(), &q),
            "/v1/charges" => {
                let expand: Vec<String> =
                    request.url.query_pairs().filter(|(k, _)| k == "expand[]").map(|(_, v)| v.into_owned()).collect();
                let charges =
                    self.account.with(|d| d.charges.iter().map(|c| d.expand_charge(c.clone(), &expand)).collect());
                page(&path, charges, &q)
            }
            refund => {
                let id = refund.trim_start_matches("/v1/refunds/");
                let found = self.account.with(|d| d.refunds.iter().find(|r| r["id"] == id).cloned());
                found.map_or_else(|| not_found(id), |r| ResponseTemplate::new(200).set_body_json(r))
            }
        }
    }
}
