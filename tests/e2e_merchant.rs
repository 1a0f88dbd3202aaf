//! Issue 12's "Done when", walked in a real headless Chromium: a subscription merchant connects a restricted key to
//! the Stripe fake (on 127.0.0.1, in Stripe's shapes of the pinned version), and sees MRR, ARR, churn and the
//! movements of the hand-computed subscriptions of `tests/api/mrr.rs`; "Matches Stripe" for every reconciled day;
//! and, with a webhook signing secret set, a payment made now on the Revenue page within seconds of Stripe's signed
//! `charge.succeeded`. At 1280 px and at 390 px, where nothing may scroll sideways. Screenshots go to
//! `target/e2e-screenshots/merchant-*.png`.
//!
//! Needs Chromium, so it is ignored by plain `cargo test`; `.ci/run` runs it with `--ignored`.

#[path = "support/chrome.rs"]
mod chrome;
#[path = "api/stripe_account.rs"]
mod stripe_account;
#[path = "support/stripe_fake.rs"]
mod stripe_fake;
#[path = "support/stripe_fake_billing.rs"]
mod stripe_fake_billing;
#[path = "support/stripe_ledger.rs"]
mod stripe_ledger;

use std::time::{Duration, Instant};

use chrome::{admin, chromedriver, chromium, fill, free_port, shot, submit, wait_for_text};
use fantoccini::Client;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;
use wiremock::MockServer;

use stripe_account::{NewCharge, unix_days_ago};

const SECRET: &str = "whsec_e2eMerchantSigningSecret0123456789";

async fn text(browser: &Client, css: &str) -> String {
    let js = format!("const e = document.querySelector('{css}'); return e ? e.innerText : ''");
    browser.execute(&js, vec![]).await.unwrap().as_str().unwrap_or_default().to_owned()
}

/// The page at 390 px: nothing scrolls sideways. Back to 1280 px after.
async fn fits_a_phone(browser: &Client, name: &str) {
    browser.set_window_size(390, 844).await.unwrap();
    let by = browser.execute("return document.documentElement.scrollWidth - window.innerWidth", vec![]).await.unwrap();
    shot(browser, &format!("merchant-{name}-phone")).await;
    assert!(by.as_i64().unwrap_or(i64::MAX) <= 0, "{name} scrolls {by}px sideways at 390 px");
    browser.set_window_size(1280, 1000).await.unwrap();
}

/// Reloads `url` until `css`'s text contains `wanted` (at most `secs`), and answers that text.
async fn reload_until(browser: &Client, url: &str, css: &str, wanted: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        browser.goto(url).await.unwrap();
        let seen = text(browser, css).await;
        if seen.contains(wanted) {
            return seen;
        }
        if Instant::now() > deadline {
            shot(browser, "merchant-failure").await;
            panic!("{wanted:?} never appeared in {css} of {url}: {seen}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Stripe's delivery of `charge.succeeded` for `charge`: the event as rendered for the pinned version, signed.
async fn deliver(url: &str, charge: &serde_json::Value) -> u16 {
    let t = unix_days_ago(0);
    let payload = json!({
        "id": "evt_3PE2eMerchant00000001", "object": "event", "api_version": "2026-02-25.clover", "created": t,
        "data": {"object": charge}, "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null}, "type": "charge.succeeded"
    })
    .to_string();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{payload}").as_bytes());
    let signature = format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()));
    let res = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("Stripe-Signature", signature)
        .body(payload)
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver; .ci/run installs them and runs this with --ignored"]
#[allow(clippy::too_many_lines)] // one merchant's walk, told in order
async fn a_subscription_merchant_sees_mrr_matches_stripe_and_a_webhook_payment_within_seconds() {
    // Stripe: the nine hand-computed subscriptions, a month of USD payments (one refunded), the ledger agreeing.
    let (account, billing) = stripe_fake_billing::account();
    account.with(|d| {
        let first = d.charge(NewCharge { amount: 4900, created: unix_days_ago(3), ..Default::default() }).0;
        for i in 1..20 {
            d.charge(NewCharge { amount: 1900 + i, created: unix_days_ago(i) - 3600, ..Default::default() });
        }
        d.refund(&first, 900);
    });
    let stripe = MockServer::start().await;
    billing.mount(&stripe).await;
    stripe_ledger::Ledger::new(&account).mount(&stripe).await;

    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    std::fs::write(data.path().join("pw"), "correct horse battery\n").unwrap();
    let pw = data.path().join("pw");
    admin(&dir, &["user", "create", "--email", "owner@example.com", "--password-file", pw.to_str().unwrap()]);
    let site = admin(&dir, &["website", "create", "--owner", "owner@example.com", "--domain", "shop.example.com"]);
    let site = site["websiteId"].as_str().unwrap().to_owned();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let stripe_url = stripe.uri();
    let env = [
        ("ROCKET_PUBLIC_URL", base.as_str()),
        ("ROCKET_ENVIRONMENT", "development"),
        ("ROCKET_STRIPE_API_BASE", stripe_url.as_str()),
    ];
    let _server = chrome::serve(data.path(), &dir, port, &env);
    let (_driver, driver_port) = chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let browser = chromium(driver_port, profile.path(), false).await;
    for _ in 0..50 {
        if browser.goto(&format!("{base}/login")).await.is_ok() && !text(&browser, "main").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fill(&browser, "email", "owner@example.com").await;
    fill(&browser, "password", "correct horse battery").await;
    submit(&browser, "form[action='/login']").await;
    wait_for_text(&browser, "Revenue").await;

    // Connect the key; the import runs; the webhook's signing secret is pasted.
    let integrations = format!("{base}/websites/{site}/integrations");
    browser.goto(&integrations).await.unwrap();
    fill(&browser, "stripeRak", "rk_test_51E2eMerchantKeyAbcdefghij").await;
    submit(&browser, &format!("form[action='/websites/{site}/integrations/stripe']")).await;
    wait_for_text(&browser, "Stripe connected successfully").await;
    let import = reload_until(&browser, &integrations, "#import-card", "Up to date", 30).await;
    assert!(import.contains("21 payments imported"), "{import}");
    fill(&browser, "stripeWebhookSecret", SECRET).await;
    submit(&browser, &format!("form[action='/websites/{site}/integrations/stripe/webhook']")).await;
    let webhook = reload_until(&browser, &integrations, "#webhook-card", "Webhook signing secret set", 10).await;
    assert!(webhook.contains(&format!("{base}/api/v1/webhooks/stripe/{site}")), "the exact URL: {webhook}");
    assert!(!browser.source().await.unwrap().contains(SECRET), "the secret is never shown again");

    // Reconciliation, asked for from the page: every one of the 35 days matches Stripe's ledger.
    submit(&browser, &format!("form[action='/websites/{site}/integrations/stripe/reconcile']")).await;
    let rec = reload_until(&browser, &integrations, "#reconcile-card", "Matches Stripe", 30).await;
    assert!(rec.contains("Matches Stripe for the last 35 days"), "{rec}");
    shot(&browser, "merchant-integrations").await;
    fits_a_phone(&browser, "integrations").await;

    // MRR as computed by hand in tests/api/mrr.rs: 52.00 USD now (ARR 624.00), 4 subscribers, ARPU 13.00; three
    // months back 22.00 new and 50.00 churned, a subscriber churn of 33.33 %.
    let revenue = format!("{base}/websites/{site}/revenue?range=12mo");
    browser.goto(&revenue).await.unwrap();
    let subs = text(&browser, "section[aria-labelledby=subscriptions-title]").await;
    for figure in ["52.00 USD", "ARR 624.00 USD", "13.00 USD", "+22.00", "−50.00", "33.33 %", "+60.00", "+20.00"] {
        assert!(subs.contains(figure), "{figure} in the Subscriptions section:\n{subs}");
    }
    assert!(subs.contains("1 subscription in GBP"), "the one without a rate is named, not counted");
    shot(&browser, "merchant-revenue").await;
    fits_a_phone(&browser, "revenue").await;

    // A payment made now: Stripe's signed event reaches revlink, which reads the charge back from Stripe; the
    // Revenue page lists it within seconds.
    let charge = account.with(|d| {
        let id = d
            .charge(NewCharge {
                amount: 7700,
                created: unix_days_ago(0),
                metadata: json!({"datafast_visitor_id": "visitor-from-webhook"}),
                ..Default::default()
            })
            .0;
        d.charges.iter().find(|c| c["id"] == id.as_str()).cloned().unwrap()
    });
    let sent = Instant::now();
    assert_eq!(deliver(&format!("{base}/api/v1/webhooks/stripe/{site}"), &charge).await, 200);
    let today = format!("{base}/websites/{site}/revenue?range=today");
    let listed = reload_until(&browser, &today, "main", "77.00 USD", 10).await;
    let took = sent.elapsed();
    assert!(listed.contains("visitor-"), "attributed to its visitor: {listed}");
    assert!(took < Duration::from_secs(10), "shown {took:?} after the event");
    println!("the webhook's payment was listed {} ms after Stripe's event", took.as_millis());
    shot(&browser, "merchant-webhook-payment").await;
    let card = reload_until(&browser, &integrations, "#webhook-card", "last event received", 5).await;
    assert!(!card.contains("no event received"), "{card}");
    browser.close().await.unwrap();
}
