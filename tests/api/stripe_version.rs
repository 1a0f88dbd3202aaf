//! One Stripe API version (issue 12, point 1): every call of a verification, of a whole import (backfill, then an
//! incremental sync that lists refunds and reads a refunded charge again) and of a key rotation sends
//! `Stripe-Version: 2026-02-25.clover`. The fake also answers any call without it with an error (see
//! `StripeFake::start`), so every other Stripe test checks it as well.

use std::collections::BTreeSet;

use crate::helpers::TEST_KEY;
use crate::import::{app_for, finished, sync_now, wait_for};
use crate::stripe_account::{Account, NewCharge, unix_days_ago};
use crate::stripe_fake::PINNED_VERSION;

#[rocket::async_test]
async fn every_call_of_verification_import_and_rotation_sends_the_pinned_version() {
    assert_eq!(revlink::providers::stripe::API_VERSION, PINNED_VERSION);
    let account = Account::default();
    let old = account.with(|d| {
        let old = d.charge(NewCharge { created: unix_days_ago(200), ..Default::default() }).0;
        for i in 0..120 {
            d.charge(NewCharge { amount: 100 + i, created: unix_days_ago(3) - i, ..Default::default() });
        }
        let paid = d.charge(NewCharge { created: unix_days_ago(4), customer: "cus_subscriber", ..Default::default() });
        d.invoice(&paid.0, "subscription_cycle", unix_days_ago(4), false);
        old
    });
    let (app, site, token) = app_for(&account, |f| f).await;
    assert_eq!(app.connect(&site, &token, TEST_KEY).await.status.code, 200);
    let sync = wait_for(&app, &site, &token, finished).await;
    assert_eq!((sync["state"].as_str(), sync["imported"].as_i64()), (Some("idle"), Some(122)), "{sync}");

    account.with(|d| {
        d.refund(&old, 500);
        d.charge(NewCharge { created: unix_days_ago(0), ..Default::default() });
    });
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!((sync["state"].as_str(), sync["imported"].as_i64()), (Some("idle"), Some(123)), "{sync}");
    assert_eq!(
        app.connect(&site, &token, "rk_test_51RotatedKeyAbcdefghijk").await.body["data"][0]["import"],
        "continued"
    );

    let (calls, unpinned) = app.stripe.calls_and_unpinned().await;
    assert_eq!(unpinned, Vec::<String>::new(), "every call sends the pinned version");
    let paths: BTreeSet<&str> = calls
        .iter()
        .map(|c| c.split(['?', ' ']).nth(1).unwrap_or_default())
        .map(|p| if p.starts_with("/v1/charges/") { "/v1/charges/{id}" } else { p })
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            "/v1/balance",
            "/v1/charges",
            "/v1/charges/{id}",
            "/v1/checkout/sessions",
            "/v1/disputes",
            "/v1/invoices",
            "/v1/payment_intents",
            "/v1/refunds",
            "/v1/subscriptions",
        ]),
        "verification's probes, the import's lists, a refunded charge read again"
    );
    assert!(calls.len() > 20, "{calls:?}");
}
