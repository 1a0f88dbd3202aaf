//! A standalone instant Stripe fake for benchmarks and manual trials, on 127.0.0.1.
//!
//! `cargo run --example stripe_fake -- 12111` — a healthy live-mode account (connect with any `rk_live_…`).
//! `cargo run --example stripe_fake -- 12111 --history 3000` — a test-mode account with a year of history:
//! charges (some refunded, some renewals, some in EUR settled in USD) with visitor ids on the charge, the
//! payment intent or the checkout session. Connect with any `rk_test_…` key (revlink in development).
//! `cargo run --example stripe_fake -- 12111 --merchant [--webhook URL whsec_…]` — a subscription merchant in test
//! mode: the same history, the nine subscriptions of `tests/api/mrr.rs` whose MRR is computed by hand there, and
//! Stripe's ledger (`/v1/balance_transactions`) agreeing with the charges. `POST /_fake/charge` on the fake adds a
//! payment made now and, with `--webhook`, delivers its signed `charge.succeeded` event to URL as Stripe would.

#[path = "../tests/api/stripe_account.rs"]
mod stripe_account;
#[path = "../tests/support/stripe_fake.rs"]
mod stripe_fake;
#[path = "../tests/support/stripe_fake_billing.rs"]
mod stripe_fake_billing;
#[path = "../tests/support/stripe_ledger.rs"]
mod stripe_ledger;

use std::net::TcpListener;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

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

/// `POST /_fake/charge`: a payment made now, answered with the charge; its event goes to the webhook sender.
struct NewPayment {
    account: Account,
    events: UnboundedSender<Value>,
}

impl Respond for NewPayment {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let now = unix_days_ago(0);
        let charge = self.account.with(|d| {
            let (id, _) = d.charge(NewCharge {
                amount: 4900,
                created: now,
                metadata: json!({"datafast_visitor_id": "visitor-webhook"}),
                ..Default::default()
            });
            d.charges.iter().find(|c| c["id"] == id.as_str()).cloned().unwrap_or_default()
        });
        self.events.send(charge.clone()).ok();
        ResponseTemplate::new(200).set_body_json(charge)
    }
}

/// Delivers each new charge's `charge.succeeded` to `url`, signed with `secret` as Stripe signs (`t=…,v1=…`).
async fn deliver(mut charges: UnboundedReceiver<Value>, webhook: Option<(String, String)>) {
    let client = reqwest::Client::new();
    let mut n = 0;
    while let Some(charge) = charges.recv().await {
        let Some((url, secret)) = &webhook else { continue };
        n += 1;
        let t = unix_days_ago(0);
        let payload = json!({
            "id": format!("evt_3PfakeWebhook{n:08}"), "object": "event", "api_version": "2026-02-25.clover",
            "created": t, "data": {"object": charge}, "livemode": false, "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null}, "type": "charge.succeeded"
        })
        .to_string();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{t}.{payload}").as_bytes());
        let signature = format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()));
        let sent = client
            .post(url)
            .header("Content-Type", "application/json")
            .header("Stripe-Signature", signature)
            .body(payload)
            .send()
            .await;
        match sent {
            Ok(r) => println!("webhook charge.succeeded {} → {}", charge["id"], r.status()),
            Err(e) => println!("webhook not delivered: {e}"),
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(12111);
    let history_size = args.iter().position(|a| a == "--history").and_then(|i| args.get(i + 1)?.parse().ok());
    let merchant = args.iter().any(|a| a == "--merchant");
    let webhook = args.iter().position(|a| a == "--webhook").and_then(|i| Some((args.get(i + 1)?, args.get(i + 2)?)));
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
    let server = MockServer::builder().listener(listener).disable_request_recording().start().await;
    let fake = stripe_fake::StripeFake { server };
    match history_size {
        _ if merchant => {
            let (account, billing) = stripe_fake_billing::account();
            history(&account, 300);
            let (events, charges) = unbounded_channel();
            Mock::given(wiremock::matchers::method("POST"))
                .and(wiremock::matchers::path("/_fake/charge"))
                .respond_with(NewPayment { account: account.clone(), events })
                .with_priority(1)
                .mount(&fake.server)
                .await;
            billing.mount(&fake.server).await;
            stripe_ledger::Ledger::new(&account).mount(&fake.server).await;
            println!("Stripe fake (test mode, a subscription merchant) on {}", fake.url());
            tokio::spawn(deliver(charges, webhook.map(|(u, s)| (u.clone(), s.clone()))));
        }
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
