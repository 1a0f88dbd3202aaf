//! Reconciliation with Stripe's ledger: revlink's gross, refunds and fees of each of the last 35 UTC days against
//! the balance transactions. A ledger that agrees matches in one walk (one request per 100 balance transactions);
//! one that disagrees on a day is found; the day is read again, which repairs a missed refund; what still differs
//! is reported, day by day.

use serde_json::json;

use crate::helpers::{TEST_KEY, TestApp, assert_error};
use crate::import::{finished, wait_for};
use crate::stripe_account::{Account, NewCharge, unix_days_ago};
use crate::stripe_ledger::{
    Ledger, app_for, balance_transaction, check_is_clean, importing, reconcile_now, stripe_status,
};

fn utc_day(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap().date().to_string()
}

#[rocket::async_test]
async fn a_ledger_that_agrees_matches_in_one_walk_of_100_a_page() {
    let account = Account::default();
    let refunded: Vec<String> = account.with(|d| {
        let ids: Vec<String> = (0..250_i64)
            .map(|i| {
                d.charge(NewCharge { amount: 1000 + i, created: unix_days_ago(1 + i % 34) - i, ..Default::default() }).0
            })
            .collect();
        // Older than the window: in neither side's days.
        d.charge(NewCharge { created: unix_days_ago(40), ..Default::default() });
        // Settled in the account's currency from another one.
        d.charge(NewCharge {
            amount: 2900,
            currency: "eur",
            settled: Some((3190, "usd")),
            created: unix_days_ago(4),
            ..Default::default()
        });
        for id in &ids[..3] {
            d.refund(id, 400);
        }
        ids[..3].to_vec()
    });
    let ledger = Ledger::new(&account);
    let (app, site, token) = app_for(&ledger).await;
    app.connect(&site, &token, TEST_KEY).await;
    wait_for(&app, &site, &token, finished).await;
    assert!(stripe_status(&app, &site, &token).await["reconciliation"].is_null(), "not checked yet");

    // 251 charges and 3 refunds in the window: three pages. The backfill's refund list named the refunds'
    // charges, so even the first check is the walk alone: one request per 100 balance transactions.
    for _ in 0..2 {
        let r = reconcile_now(&app, &site, &token).await;
        assert_eq!(
            (r["days"].as_u64(), r["matchedDays"].as_u64(), r["mismatches"].clone(), r["repairedDays"].as_u64()),
            (Some(35), Some(35), json!([]), Some(0)),
            "{r}"
        );
        assert_eq!((r["balanceTransactions"].as_u64(), r["requests"].as_u64()), (Some(251 + 3), Some(3)), "{r}");
        assert!(r["lastError"].is_null());
    }
    assert_eq!(ledger.requests_to("/v1/balance_transactions"), 6);
    let walk: Vec<String> = ledger.requests.lock().unwrap().clone();
    assert!(walk.iter().any(|q| q.contains("limit=100") && q.contains("created%5Bgte%5D")), "{walk:?}");
    assert_eq!(refunded.len(), 3);
    check_is_clean(&app).await;
}

#[rocket::async_test]
async fn a_missed_refund_is_found_on_its_day_and_repaired_by_reading_the_day_again() {
    let account = Account::default();
    let (charge, other) = account.with(|d| {
        let c = d.charge(NewCharge { amount: 5000, created: unix_days_ago(6), ..Default::default() }).0;
        let o = d.charge(NewCharge { amount: 1200, created: unix_days_ago(12), ..Default::default() }).0;
        (c, o)
    });
    let ledger = Ledger::new(&account);
    let (app, site, token) = app_for(&ledger).await;
    app.connect(&site, &token, TEST_KEY).await;
    wait_for(&app, &site, &token, finished).await;

    // Refunded in Stripe after revlink's last sync: its ledger has the refund, revlink does not.
    account.with(|d| d.refund(&charge, 1500));
    let r = reconcile_now(&app, &site, &token).await;
    assert_eq!(
        (r["matchedDays"].as_u64(), r["repairedDays"].as_u64(), r["mismatches"].clone()),
        (Some(35), Some(1), json!([])),
        "{r}"
    );
    // The walk, the refund looked up, and the day's charges read again (one page).
    assert_eq!(r["requests"].as_u64(), Some(3), "{r}");
    let reread: Vec<String> =
        ledger.requests.lock().unwrap().iter().filter(|q| q.starts_with("/v1/charges")).cloned().collect();
    assert_eq!(reread.len(), 1, "only the differing day: {reread:?}");
    assert!(reread[0].contains("expand%5B%5D=data.balance_transaction"), "{reread:?}");
    let payments = app.get(&format!("/api/v1/admin/websites/{site}/payments"), &token).await;
    let refunded = |id: &str| {
        payments.body["data"].as_array().unwrap().iter().find(|p| p["transactionId"] == id).unwrap()["refundedAmount"]
            .as_i64()
    };
    assert_eq!((refunded(&charge), refunded(&other)), (Some(1500), Some(0)));
    check_is_clean(&app).await;
}

#[rocket::async_test]
async fn a_day_the_ledger_disagrees_on_is_reported_with_its_figures() {
    let account = Account::default();
    account.with(|d| {
        d.charge(NewCharge { amount: 2000, created: unix_days_ago(3), ..Default::default() });
        d.charge(NewCharge { amount: 3000, created: unix_days_ago(9), ..Default::default() });
    });
    let ledger = Ledger::new(&account);
    // A payment in Stripe's ledger that its charge list does not return: reading the day again cannot repair it.
    let when = unix_days_ago(3) + 60;
    ledger.extra.lock().unwrap().push(balance_transaction(
        "txn_1PfakeGhost000001",
        700,
        50,
        "usd",
        when,
        ("charge", "charge"),
        "ch_3PfakeGhost000001",
    ));
    let (app, site, token) = app_for(&ledger).await;
    app.connect(&site, &token, TEST_KEY).await;
    wait_for(&app, &site, &token, finished).await;

    let r = reconcile_now(&app, &site, &token).await;
    let date = utc_day(when);
    let same_day_gross = if utc_day(unix_days_ago(3)) == date { 2000 } else { 0 };
    let fee = 2000 * 29 / 1000 + 30;
    assert_eq!(
        r["mismatches"],
        json!([
            {"date": date, "field": "gross", "revlink": same_day_gross, "stripe": same_day_gross + 700, "currency": "USD"},
            {"date": date, "field": "fees", "revlink": if same_day_gross > 0 { fee } else { 0 },
             "stripe": if same_day_gross > 0 { fee } else { 0 } + 50, "currency": "USD"}
        ]),
        "{r}"
    );
    assert_eq!(
        (r["days"].as_u64(), r["matchedDays"].as_u64(), r["repairedDays"].as_u64()),
        (Some(35), Some(34), Some(0))
    );
    assert_eq!(r["requests"].as_u64(), Some(2), "the walk and the day read again: {r}");
    check_is_clean(&app).await;
}

#[rocket::async_test]
async fn reconciling_needs_a_connection_and_settings_write() {
    let account = Account::default();
    let ledger = Ledger::new(&account);
    let (app, site, token) = app_for(&ledger).await;
    let path = format!("/api/v1/admin/websites/{site}/integrations/stripe/reconcile");
    let r = app.send(rocket::http::Method::Post, &path, Some(&token), None).await;
    assert_error(&r, 404, "Stripe is not connected");
    let owner = app.user("viewer@example.com");
    app.member(&site, &owner, revlink::domain::Role::Viewer);
    let viewer = app.full_token(&owner);
    let r = app.send(rocket::http::Method::Post, &path, Some(&viewer), None).await;
    assert_eq!(r.status.code, 403, "{}", r.body);
}

#[rocket::async_test]
async fn connected_websites_are_reconciled_once_a_day_after_their_scheduled_sync() {
    let account = Account::default();
    account.with(|d| {
        for i in 0..5 {
            d.charge(NewCharge { created: unix_days_ago(2 + i), ..Default::default() });
        }
    });
    let ledger = Ledger::new(&account);
    let (app, site, token) = app_for(&ledger).await;
    app.connect(&site, &token, TEST_KEY).await;
    wait_for(&app, &site, &token, finished).await;
    assert!(stripe_status(&app, &site, &token).await["reconciliation"].is_null(), "a connect only imports");

    // At start-up the schedule syncs every connected website and reconciles those not checked for a day.
    let (dir, stripe) = app.into_parts();
    let app = TestApp::start(dir, stripe, importing).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let r = loop {
        let r = stripe_status(&app, &site, &token).await["reconciliation"].clone();
        if r["state"] == "idle" && r["checkedAt"].is_string() {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "no daily reconciliation: {r}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!((r["matchedDays"].as_u64(), r["mismatches"].clone()), (Some(35), json!([])), "{r}");
    let walks = ledger.requests_to("/v1/balance_transactions");
    assert_eq!(walks, 1);

    // Started again the same day: it syncs, and does not check again.
    let synced = stripe_status(&app, &site, &token).await["sync"]["lastSyncAt"].clone();
    let (dir, stripe) = app.into_parts();
    let app = TestApp::start(dir, stripe, importing).await;
    wait_for(&app, &site, &token, |s| s["state"] == "idle" && s["lastSyncAt"] != synced).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(ledger.requests_to("/v1/balance_transactions"), walks, "once a day");
}
