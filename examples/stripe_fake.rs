//! A standalone instant Stripe fake for benchmarks and manual trials, on 127.0.0.1.
//!
//! `cargo run --example stripe_fake -- 12111` — a healthy live-mode account (connect with any `rk_live_…`).
//! `cargo run --example stripe_fake -- 12111 --history 3000` — a test-mode account with a year of history:
//! charges (some refunded, some renewals, some in EUR settled in USD) with visitor ids on the charge, the
//! payment intent or the checkout session. Connect with any `rk_test_…` key (revlink in development).

#[path = "../tests/api/stripe_account.rs"]
mod stripe_account;
#[path = "../tests/support/stripe_fake.rs"]
mod stripe_fake;

use std::net::TcpListener;

use serde_json::json;
use wiremock::MockServer;

use stripe_account::{Account, NewCharge, unix_days_ago};

fn history(account: &Account, n: usize) {
    account.with(|d| {
        for i in 0..n {
            let i64_of = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
            let created = unix_days_ago(i64_of(i * 365 / n.max(1))) - (i64_of(i) % 86_400);
            let visitor = json!({"datafast_visitor_id": format!("visitor-{:04}", i % 700)});
            let euro = i % 7 == 0;
            let (charge, intent) = d.charge(NewCharge {
                amount: [900, 1900, 2900, 4900, 9900][i % 5],
                currency: if euro { "eur" } else { "usd" },
                settled: euro.then_some(([900, 1900, 2900, 4900, 9900][i % 5] * 108 / 100, "usd")),
                created,
                metadata: if i % 3 == 0 { visitor.clone() } else { json!({}) },
                intent_metadata: (i % 3 == 1).then(|| visitor.clone()),
                ..Default::default()
            });
            if i % 3 == 2 && i % 2 == 0 {
                d.session(Some(&intent), None, visitor, created - 60);
            }
            if i % 4 == 1 {
                d.invoice(&charge, "subscription_cycle", created, false);
            }
            if i % 25 == 0 {
                d.refund(&charge, 500);
            }
        }
    });
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(12111);
    let history_size = args.iter().position(|a| a == "--history").and_then(|i| args.get(i + 1)?.parse().ok());
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
    let server = MockServer::builder().listener(listener).disable_request_recording().start().await;
    let fake = stripe_fake::StripeFake { server };
    match history_size {
        Some(n) => {
            let account = Account::default();
            history(&account, n);
            account.mount(&fake.server).await;
            println!("Stripe fake (test mode, {n} charges over a year) on {}", fake.url());
        }
        None => {
            fake.healthy(true, &[(125_000, "usd")]).await;
            println!("Stripe fake on {}", fake.url());
        }
    }
    tokio::signal::ctrl_c().await.ok();
}
