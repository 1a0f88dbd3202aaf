//! Import throughput and peak memory: revlink's Stripe import of N charges (each with its expanded
//! balance transaction and payment intent, Stripe's field names) from an instant fake on 127.0.0.1
//! into a fresh SQLite database. The fake runs in a child process (this binary, started with
//! `--serve-fake`), so the peak RSS reported is revlink's alone.
//!
//! `cargo bench --bench import -- 20000` prints one JSON line: charges, seconds, charges per second,
//! peak RSS. `bench/import.sh` runs 20,000 and 200,000 in separate processes and prints the ratios.

// Counts, sizes and timings of a benchmark: far inside every integer type and float mantissa.
#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

mod common;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use revlink::db::import;

const NEWEST: i64 = 1_790_000_000;

/// Charges `ch_…{i}` for i in 0..n, newest first, one second apart.
struct Charges {
    n: usize,
}

fn charge(i: usize) -> Value {
    let created = NEWEST - i as i64;
    json!({
        "id": format!("ch_3PbenchA{i:010}"), "object": "charge", "amount": 1000 + (i % 5000) as i64,
        "amount_captured": 1000 + (i % 5000) as i64, "amount_refunded": if i.is_multiple_of(20) { 500 } else { 0 },
        "balance_transaction": {"id": format!("txn_3PbenchA{i:010}"), "object": "balance_transaction",
            "amount": 1000 + (i % 5000) as i64, "currency": "usd", "fee": 59, "net": 941 + (i % 5000) as i64,
            "created": created, "status": "available", "type": "charge", "reporting_category": "charge",
            "exchange_rate": null, "available_on": created + 172_800},
        "billing_details": {"address": null, "email": format!("buyer{i}@example.com"), "name": "Jenny Rosen", "phone": null},
        "captured": true, "created": created, "currency": "usd", "customer": format!("cus_Bench{:06}", i % 100_000),
        "description": null, "disputed": false, "livemode": true,
        "metadata": if i.is_multiple_of(3) { json!({"datafast_visitor_id": format!("v-{i}")}) } else { json!({}) },
        "paid": true,
        "payment_intent": {"id": format!("pi_3PbenchA{i:010}"), "object": "payment_intent", "amount": 1000,
            "currency": "usd", "created": created, "status": "succeeded", "livemode": true,
            "metadata": if i % 3 == 1 { json!({"datafast_visitor_id": format!("v-{i}")}) } else { json!({}) }},
        "payment_method": "pm_1PbenchBench", "receipt_email": null, "refunded": false, "status": "succeeded"
    })
}

impl Respond for Charges {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        if path == "/v1/balance" {
            return ResponseTemplate::new(200).set_body_json(json!({"object": "balance", "livemode": true,
                "available": [{"amount": 1, "currency": "usd", "source_types": {"card": 1}}], "pending": []}));
        }
        let mut limit = 10;
        let mut from = 0;
        for (k, v) in request.url.query_pairs() {
            match &*k {
                "limit" => limit = v.parse().unwrap_or(10),
                "starting_after" => from = v.trim_start_matches("ch_3PbenchA").parse::<usize>().unwrap_or(0) + 1,
                _ => {}
            }
        }
        let n = if path == "/v1/charges" { self.n } else { 0 };
        let end = (from + limit).min(n);
        let data: Vec<Value> = (from..end).map(charge).collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"object": "list", "url": path, "has_more": end < n, "data": data}))
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child process: serves `n` charges until killed, after printing its address.
async fn serve_fake(n: usize) {
    let server = MockServer::builder().disable_request_recording().start().await;
    Mock::given(wiremock::matchers::any()).respond_with(Charges { n }).mount(&server).await;
    println!("{}", server.uri());
    std::future::pending::<()>().await;
}

/// Kills the fake when the measurement ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.iter().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20_000);
    if args.iter().any(|a| a == "--serve-fake") {
        return serve_fake(n).await;
    }
    let mut child = Child(
        std::process::Command::new(std::env::current_exe().expect("own path"))
            .args(["--serve-fake", &n.to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the fake starts"),
    );
    let mut uri = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.0.stdout.take().expect("stdout")), &mut uri)
        .expect("the fake prints its address");
    let uri = uri.trim().to_owned();

    let dir = tempfile::tempdir().expect("temp dir");
    let figment = revlink::config::figment()
        .merge(("data_dir", dir.path()))
        .merge(("stripe_api_base", uri))
        .merge(("log_level", "off"))
        .merge(("auto_import", false))
        .merge(("import_since_days", 36_500))
        .merge(("stripe_live_requests_per_second", 1_000_000));
    let rocket = revlink::build(figment).expect("revlink builds");
    let rocket = rocket.ignite().await.expect("ignites");
    let state = rocket.state::<revlink::service::App>().expect("state");
    let site = state.db.with_conn(|c| common::connected_website(state, c)).expect("seeded");

    let started = Instant::now();
    state.importer.trigger(site.clone());
    let status = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let s = state.db.with_conn(|c| import::status(c, &site)).expect("status");
        if s.state != "running" && s.phase == "incremental" || s.state == "error" {
            break s;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(status.state, "idle", "import failed: {:?}", status.last_error);
    assert_eq!(status.imported as usize, n, "every charge imported once");
    drop(child);
    println!(
        "{}",
        json!({"charges": n, "seconds": (seconds * 1000.0).round() / 1000.0,
               "charges_per_second": (n as f64 / seconds).round(), "peak_rss_kib": peak_rss_kib()})
    );
}
