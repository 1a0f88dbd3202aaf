//! Disputes imported from Stripe: a lost one takes its amount and fee from net revenue, a won one gives them back
//! (per Stripe's balance transactions), an open one counts once decided however long ago it opened; the payments
//! list shows each dispute; `revlink check` stays clean; a key without `rak_dispute_read` imports the rest.

use serde_json::Value;

use revlink::domain::ObjectId;

use crate::helpers::{TEST_KEY, TestApp};
use crate::import::{finished, sync_now, wait_for};
use crate::stripe_account::{Account, Fault, NewCharge, unix_days_ago};
use crate::stripe_ledger::{DISPUTE_FEE, Ledger, app_for, check_is_clean, stripe_status};

fn day(days_ago: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(unix_days_ago(days_ago)).unwrap().date()
}

async fn revenue(app: &TestApp, site: &ObjectId, token: &str) -> Value {
    let r = app.get(&format!("/api/v1/admin/websites/{site}/revenue?start={}&end={}", day(80), day(0)), token).await;
    assert_eq!(r.status.code, 200, "{}", r.body);
    r.body["data"][0].clone()
}

/// `(transaction id → the payment's dispute)` from the payments list.
async fn disputes_listed(app: &TestApp, site: &ObjectId, token: &str) -> Vec<(String, Value, bool)> {
    let r = app.get(&format!("/api/v1/admin/websites/{site}/payments"), token).await;
    let mut rows: Vec<(String, Value, bool)> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (p["transactionId"].as_str().unwrap().to_owned(), p["dispute"].clone(), p["disputed"].as_bool().unwrap())
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

#[rocket::async_test]
async fn lost_and_won_disputes_change_net_revenue_and_revlink_check_stays_clean() {
    let account = Account::default();
    let (lost, won, open, plain) = account.with(|d| {
        let mut c = |amount, days| d.charge(NewCharge { amount, created: unix_days_ago(days), ..Default::default() }).0;
        (c(2900, 20), c(4000, 20), c(5000, 60), c(1000, 20))
    });
    let ledger = Ledger::new(&account);
    let lost_id = ledger.dispute(&lost, "needs_response", unix_days_ago(15));
    let won_id = ledger.dispute(&won, "under_review", unix_days_ago(15));
    let open_id = ledger.dispute(&open, "needs_response", unix_days_ago(50));
    let (app, site, token) = app_for(&ledger).await;
    app.connect(&site, &token, TEST_KEY).await;
    wait_for(&app, &site, &token, finished).await;

    // Open disputes: the funds are withheld, nothing is lost yet.
    let r = revenue(&app, &site, &token).await;
    assert_eq!((r["gross"].as_i64(), r["disputes"].as_i64(), r["net"].as_i64()), (Some(12_900), Some(0), Some(12_900)));
    let listed = disputes_listed(&app, &site, &token).await;
    let status_of = |id: &str, rows: &[(String, Value, bool)]| rows.iter().find(|r| r.0 == id).unwrap().1.clone();
    assert_eq!(status_of(&lost, &listed), serde_json::json!({"status": "needs_response", "amount": 2900}));
    assert_eq!(listed.iter().find(|r| r.0 == plain).map(|r| (&r.1, r.2)), Some((&Value::Null, false)));
    check_is_clean(&app).await;

    // Decided: one lost (amount and fee), one won with the fee returned (nothing).
    ledger.decide(&lost_id, "lost", unix_days_ago(5), false);
    ledger.decide(&won_id, "won", unix_days_ago(5), true);
    sync_now(&app, &site, &token).await;
    let r = revenue(&app, &site, &token).await;
    assert_eq!(r["disputes"].as_i64(), Some(2900 + DISPUTE_FEE));
    assert_eq!(r["net"].as_i64(), Some(12_900 - 2900 - DISPUTE_FEE));
    assert_eq!(r["net"].as_i64().unwrap(), r["newRevenue"].as_i64().unwrap() + r["renewalRevenue"].as_i64().unwrap());
    let series_disputes: i64 = r["series"].as_array().unwrap().iter().map(|d| d["disputes"].as_i64().unwrap()).sum();
    assert_eq!(series_disputes, 2900 + DISPUTE_FEE, "on the day of the disputed payment");
    let listed = disputes_listed(&app, &site, &token).await;
    assert_eq!(status_of(&lost, &listed), serde_json::json!({"status": "lost", "amount": 2900}));
    assert_eq!(status_of(&won, &listed)["status"], "won");
    check_is_clean(&app).await;

    // Opened 50 days ago, past the 30-day rescan: the disputes list is read back to it, and its loss counts.
    ledger.decide(&open_id, "lost", unix_days_ago(1), false);
    sync_now(&app, &site, &token).await;
    let latest = ledger.requests.lock().unwrap().iter().rev().find(|r| r.starts_with("/v1/disputes")).cloned().unwrap();
    let gt: i64 = url::form_urlencoded::parse(latest.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "created[gt]")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    assert!(gt < unix_days_ago(50), "read back to the oldest open dispute: {latest}");
    let r = revenue(&app, &site, &token).await;
    assert_eq!(r["disputes"].as_i64(), Some(2900 + 5000 + 2 * DISPUTE_FEE));
    check_is_clean(&app).await;

    // A lost dispute reversed later (won on appeal, the fee kept by Stripe): only the fee stays lost.
    ledger.decide(&lost_id, "won", unix_days_ago(0), false);
    sync_now(&app, &site, &token).await;
    let r = revenue(&app, &site, &token).await;
    assert_eq!(r["disputes"].as_i64(), Some(5000 + 2 * DISPUTE_FEE));
    check_is_clean(&app).await;
    assert!(stripe_status(&app, &site, &token).await.get("disputesUnavailable").is_none());
}

#[rocket::async_test]
async fn a_key_without_the_dispute_permission_imports_everything_else() {
    let account = Account::default();
    account.with(|d| {
        d.charge(NewCharge { created: unix_days_ago(3), ..Default::default() });
        d.fault = Some(Fault::Forbidden("/v1/disputes", "rak_dispute_read"));
    });
    let ledger = Ledger::new(&account);
    let (app, site, token) = app_for(&ledger).await;
    app.connect(&site, &token, TEST_KEY).await;
    let sync = wait_for(&app, &site, &token, finished).await;
    assert_eq!(
        (sync["state"].as_str(), sync["imported"].as_i64(), &sync["lastError"]),
        (Some("idle"), Some(1), &Value::Null)
    );
    let status = stripe_status(&app, &site, &token).await;
    let why = status["disputesUnavailable"].as_str().unwrap();
    assert!(why.contains("rak_dispute_read") && why.contains("not imported"), "{why}");

    // Granted later: the next sync reads them and the note goes.
    account.with(|d| d.fault = None);
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!(sync["state"], "idle");
    assert!(stripe_status(&app, &site, &token).await.get("disputesUnavailable").is_none());
}
