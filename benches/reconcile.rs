//! Reconciliation cost and time: revlink compares 35 days of 200,000 charges (and a refund for one in 50) with
//! Stripe's ledger, served by an instant in-process fake on 127.0.0.1 in Stripe's shapes, and counts the requests
//! the fake answered per 100 balance transactions (target ≤ 1).
//!
//! `cargo bench --bench reconcile -- 200000` prints one JSON line per check: once without the refunds' charges known
//! (a database imported by a revlink before 0.1's backfill listed refunds: the check reads Stripe's refund list
//! once), then with them known, as every check is since (the backfill's refund list and each sync's name them).
//! `bench/reconcile.sh` builds and runs it.

// Counts, sizes and timings of a benchmark: far inside every integer type and float mantissa.
#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use revlink::db::payments::upsert_imported;
use revlink::db::{self, reconcile};
use revlink::domain::ObjectId;
use revlink::domain::payment::{NewPayment, Settlement};

const DAYS: i64 = 35;
/// One charge in this many is refunded (500 of it).
const REFUND_EVERY: usize = 50;

/// The ledger: `n` charges evenly over the 35 whole UTC days before today, newest first, each refunded one
/// preceded (newer by a second) by its refund. Entry `p` is computed, not stored.
struct Ledger {
    n: usize,
    today: i64,
    requests: Arc<AtomicUsize>,
}

impl Ledger {
    fn step(&self) -> i64 {
        DAYS * 86_400 / self.n as i64
    }

    fn entries(&self) -> usize {
        self.n + self.n.div_ceil(REFUND_EVERY)
    }

    fn created(&self, charge: usize) -> i64 {
        self.today - 1 - charge as i64 * self.step()
    }

    /// The charge at position `p`, and whether the entry is its refund.
    fn at(p: usize) -> (usize, bool) {
        let block = REFUND_EVERY + 1;
        (REFUND_EVERY * (p / block) + (p % block).saturating_sub(1), p.is_multiple_of(block))
    }

    fn entry(&self, p: usize) -> Value {
        let (i, refund) = Self::at(p);
        let created = self.created(i);
        let (amount, fee, kind, source) = if refund {
            (-500, 0, "refund", format!("re_3PbenchA{i:010}"))
        } else {
            (amount(i), fee(i), "charge", charge_id(i))
        };
        json!({"id": format!("txn_3PbenchA{p:010}"), "object": "balance_transaction", "amount": amount,
               "available_on": created + 172_800, "balance_type": "payments", "created": created + i64::from(refund),
               "currency": "usd", "description": null, "exchange_rate": null, "fee": fee, "fee_details": [],
               "net": amount - fee, "reporting_category": kind, "source": source, "status": "available", "type": kind})
    }
}

fn charge_id(i: usize) -> String {
    format!("ch_3PbenchA{i:010}")
}

fn amount(i: usize) -> i64 {
    1000 + (i % 5000) as i64
}

fn fee(i: usize) -> i64 {
    amount(i) * 29 / 1000 + 30
}

impl Ledger {
    fn refunds(&self) -> usize {
        self.n.div_ceil(REFUND_EVERY)
    }

    /// Refund `k` refunds charge `k · REFUND_EVERY`.
    fn refund(&self, k: usize) -> Value {
        let i = k * REFUND_EVERY;
        json!({"id": format!("re_3PbenchA{i:010}"), "object": "refund", "amount": 500, "balance_transaction": null,
               "charge": charge_id(i), "created": self.created(i) + 1, "currency": "usd", "metadata": {},
               "payment_intent": null, "reason": null, "status": "succeeded"})
    }
}

impl Respond for Ledger {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let path = request.url.path();
        let mut limit = 10;
        let mut after = None;
        for (k, v) in request.url.query_pairs() {
            match &*k {
                "limit" => limit = v.parse().unwrap_or(10),
                "starting_after" => {
                    after =
                        v.trim_start_matches("txn_3PbenchA").trim_start_matches("re_3PbenchA").parse::<usize>().ok();
                }
                _ => {}
            }
        }
        let (from, total) = match path {
            // Balance transaction cursors carry their position, refund cursors their charge.
            "/v1/balance_transactions" => (after.map_or(0, |p| p + 1), self.entries()),
            "/v1/refunds" => (after.map_or(0, |i| i / REFUND_EVERY + 1), self.refunds()),
            _ => return ResponseTemplate::new(404).set_body_json(json!({"error": {"message": "Not found"}})),
        };
        let end = (from + limit).min(total);
        let data: Vec<Value> = if path == "/v1/refunds" {
            (from..end).map(|k| self.refund(k)).collect()
        } else {
            (from..end).map(|p| self.entry(p)).collect()
        };
        ResponseTemplate::new(200)
            .set_body_json(json!({"object": "list", "url": path, "has_more": end < total, "data": data}))
    }
}

/// revlink's side: the same charges as imported payments (settled in USD, with their fee), refunds included.
fn seed(state: &revlink::service::App, ledger: &Ledger) -> ObjectId {
    state
        .db
        .with_conn(|c| {
            let site = common::connected_website(state, c)?;
            db::in_transaction(c, |tx| {
                for i in 0..ledger.n {
                    let at = time::OffsetDateTime::from_unix_timestamp(ledger.created(i)).expect("a time");
                    let payment = NewPayment {
                        transaction_id: charge_id(i),
                        amount: amount(i),
                        currency: "USD".into(),
                        refunded_amount: if i % REFUND_EVERY == 0 { 500 } else { 0 },
                        disputed: false,
                        settled: Some(Settlement { amount: amount(i), currency: "USD".into(), fee: fee(i) }),
                        renewal: false,
                        free_trial: false,
                        visitor_id: None,
                        session_id: None,
                        customer_id: None,
                        customer_email: None,
                        customer_name: None,
                        paid_at: db::format_time(at),
                    };
                    upsert_imported(tx, &site, &payment)?;
                }
                Ok(())
            })?;
            Ok(site)
        })
        .expect("seeded")
}

fn refs(n: usize) -> Vec<(String, String)> {
    (0..n).step_by(REFUND_EVERY).map(|i| (format!("re_3PbenchA{i:010}"), charge_id(i))).collect()
}

/// One reconciliation, timed, with the requests the fake answered.
async fn check(state: &revlink::service::App, site: &ObjectId, ledger: &Ledger, scenario: &str) -> Value {
    let before = ledger.requests.load(Ordering::Relaxed);
    let started = Instant::now();
    state.importer.reconcile(site.clone());
    let result = loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let r = state.db.with_conn(|c| reconcile::status(c, site)).expect("status");
        if let Some(r) = r.filter(|r| r.state != "running" && (r.checked_at.is_some() || r.state == "error")) {
            break r;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let requests = ledger.requests.load(Ordering::Relaxed) - before;
    let entries = ledger.entries();
    assert_eq!(result.last_error, None, "the check failed");
    assert_eq!((result.matched_days, result.mismatches.len()), (35, 0), "the ledger agrees with revlink");
    // Clear the finished check so the next one is waited for.
    state.db.with_conn(|c| Ok(c.execute("DELETE FROM stripe_reconciliations", [])?)).expect("cleared");
    json!({"scenario": scenario, "charges": ledger.n, "balance_transactions": entries, "requests": requests,
           "requests_per_100_balance_transactions": (requests as f64 * 100.0 / entries as f64 * 1000.0).round() / 1000.0,
           "seconds": (seconds * 1000.0).round() / 1000.0, "days": result.days, "matched_days": result.matched_days})
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200_000);
    let now = time::OffsetDateTime::now_utc();
    let today = now.replace_time(time::Time::MIDNIGHT).unix_timestamp();
    let requests = Arc::new(AtomicUsize::new(0));
    let server = MockServer::builder().disable_request_recording().start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Ledger { n, today, requests: Arc::clone(&requests) })
        .mount(&server)
        .await;
    let ledger = Ledger { n, today, requests };

    let dir = tempfile::tempdir().expect("temp dir");
    let figment = revlink::config::figment()
        .merge(("data_dir", dir.path()))
        .merge(("stripe_api_base", server.uri()))
        .merge(("log_level", "off"))
        .merge(("auto_import", false))
        .merge(("reconcile_days", DAYS))
        .merge(("stripe_live_requests_per_second", 1_000_000));
    let rocket = revlink::build(figment).expect("revlink builds").ignite().await.expect("ignites");
    let state = rocket.state::<revlink::service::App>().expect("state");
    let seeding = Instant::now();
    let site = seed(state, &ledger);
    eprintln!("seeded {n} payments in {:.1} s", seeding.elapsed().as_secs_f64());

    // No refund's charge known: a database whose backfill did not list refunds.
    println!("{}", check(state, &site, &ledger, "refunds never listed by the import").await);
    // As after any backfill now, and every later sync: the refund list walked above named them.
    let known =
        state.db.with_conn(|c| Ok(c.query_row("SELECT COUNT(*) FROM stripe_refund_refs", [], |r| r.get::<_, i64>(0))?));
    assert_eq!(known.expect("count") as usize, refs(n).len(), "the refunds' charges were stored");
    println!("{}", check(state, &site, &ledger, "every check (refunds listed by the import)").await);
}
