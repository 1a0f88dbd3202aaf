//! Key rotation without re-import (issue 12, point 7): a new key of the same Stripe account keeps the imported
//! payments and the import's position and continues incrementally; a key of another account starts it over, as
//! before. The account is recognised by one of its charges (`providers::stripe::account`).

use std::collections::HashMap;

use serde_json::Value;

use revlink::domain::ObjectId;

use crate::helpers::TestApp;
use crate::import::{app_for, sync_now};
use crate::stripe_account::{Account, NewCharge, unix_days_ago};

const FIRST_KEY: &str = "rk_test_51FirstKeyAbcdefghijklmn";
const SECOND_KEY: &str = "rk_test_51SecondKeyAbcdefghijklm";

/// Each list's high-water mark and the pass under way (its cursor), as the import keeps them.
fn positions(app: &TestApp, site: &ObjectId) -> HashMap<String, (Option<i64>, Option<String>)> {
    app.state()
        .db
        .with_conn(|c| {
            let mut stmt =
                c.prepare("SELECT stream, high_water, pass_cursor FROM stripe_sync_streams WHERE website_id = ?1")?;
            let rows = stmt.query_map([site], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .unwrap()
}

fn payment_ids(app: &TestApp, site: &ObjectId) -> Vec<String> {
    app.state()
        .db
        .with_conn(|c| {
            let mut stmt =
                c.prepare("SELECT transaction_id FROM payments WHERE website_id = ?1 ORDER BY transaction_id")?;
            let rows = stmt.query_map([site], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .unwrap()
}

/// The `created[gt]` of the charge-list pages read since call number `from`.
async fn charge_pages_since(app: &TestApp, from: usize) -> Vec<i64> {
    let requests = app.stripe.server.received_requests().await.unwrap();
    requests[from..]
        .iter()
        .filter(|r| r.url.path() == "/v1/charges")
        .filter_map(|r| r.url.query_pairs().find(|(k, _)| k == "created[gt]").map(|(_, v)| v.parse().unwrap()))
        .collect()
}

async fn connect(app: &TestApp, site: &ObjectId, token: &str, key: &str) -> Value {
    let reply = app.connect(site, token, key).await;
    assert_eq!(reply.status.code, 200, "{}", reply.body);
    reply.body["data"][0].clone()
}

/// Syncs run only when asked, so each step is seen in turn.
fn by_hand(f: rocket::figment::Figment) -> rocket::figment::Figment {
    f.merge(("auto_import", false))
}

#[rocket::async_test]
async fn a_new_key_of_the_same_account_continues_the_import() {
    // An account with no charge yet when the first key is connected: the first payment the import stores is what
    // recognises the account later.
    let account = Account::default();
    let (app, site, token) = app_for(&account, by_hand).await;
    assert_eq!(connect(&app, &site, &token, FIRST_KEY).await["import"], "started");
    sync_now(&app, &site, &token).await;
    account.with(|d| {
        for i in 0..30 {
            d.charge(NewCharge { amount: 100 + i, created: unix_days_ago(2) - i, ..Default::default() });
        }
    });
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!(sync["imported"], 30, "{sync}");

    // New payments since, then the owner rotates the key: the new key's newest charge is not the one revlink
    // keeps, so revlink asks Stripe for that one with the new key.
    account.with(|d| {
        d.charge(NewCharge { amount: 5000, created: unix_days_ago(1), ..Default::default() });
    });
    let before = (payment_ids(&app, &site), positions(&app, &site));
    let calls = app.stripe.server.received_requests().await.unwrap().len();
    let answer = connect(&app, &site, &token, SECOND_KEY).await;
    assert_eq!(answer["import"], "continued");
    assert_eq!((payment_ids(&app, &site), positions(&app, &site)), before, "payments and positions kept");
    let requests = app.stripe.server.received_requests().await.unwrap();
    assert_eq!(
        requests[calls..].iter().filter(|r| r.url.path().starts_with("/v1/charges/")).count(),
        1,
        "one charge read by id recognised the account"
    );

    let calls = requests.len();
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!(
        (sync["state"].as_str(), sync["phase"].as_str(), sync["imported"].as_i64()),
        (Some("idle"), Some("incremental"), Some(31))
    );
    let rescan = unix_days_ago(30);
    for gt in charge_pages_since(&app, calls).await {
        assert!((rescan - 5..=rescan + 5).contains(&gt), "incremental, not a backfill: created[gt]={gt}");
    }
    let audit: String = app
        .state()
        .db
        .with_conn(|c| {
            Ok(c.query_row(
                "SELECT detail FROM audit_log WHERE website_id = ?1 AND action = 'stripe.reconnect' ORDER BY id DESC",
                [&site],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(audit, "test, USD, same account, import continued");
}

#[rocket::async_test]
async fn a_key_of_another_account_starts_the_import_over() {
    let first = Account::default();
    first.with(|d| {
        for i in 0..5 {
            d.charge(NewCharge { amount: 100 + i, created: unix_days_ago(3) - i, ..Default::default() });
        }
    });
    let (app, site, token) = app_for(&first, by_hand).await;
    connect(&app, &site, &token, FIRST_KEY).await;
    sync_now(&app, &site, &token).await;
    let imported = payment_ids(&app, &site);
    assert_eq!(imported.len(), 5);

    // Another Stripe account behind the same address: its charges have other ids, and it cannot read the first's.
    let second = Account::default();
    second.with(|d| {
        d.skip_ids(1000);
        for i in 0..3 {
            d.charge(NewCharge { amount: 900 + i, created: unix_days_ago(2) - i, ..Default::default() });
        }
    });
    app.stripe.reset().await;
    second.mount(&app.stripe.server).await;
    let answer = connect(&app, &site, &token, SECOND_KEY).await;
    assert_eq!(answer["import"], "started over");
    assert!(positions(&app, &site).is_empty(), "the import's positions are forgotten");
    assert_eq!(payment_ids(&app, &site), imported, "imported payments stay");

    let sync = sync_now(&app, &site, &token).await;
    assert_eq!((sync["state"].as_str(), sync["imported"].as_i64()), (Some("idle"), Some(8)), "{sync}");
    let since = unix_days_ago(730);
    for gt in charge_pages_since(&app, 0).await {
        assert!((since - 5..=since + 5).contains(&gt), "a backfill again: created[gt]={gt}");
    }
}

/// Connected again after a disconnect, the same account's key also continues where the import stopped.
#[rocket::async_test]
async fn the_same_account_connected_again_after_a_disconnect_continues() {
    let account = Account::default();
    account.with(|d| {
        d.charge(NewCharge { created: unix_days_ago(5), ..Default::default() });
    });
    let (app, site, token) = app_for(&account, by_hand).await;
    connect(&app, &site, &token, FIRST_KEY).await;
    sync_now(&app, &site, &token).await;
    let before = positions(&app, &site);
    let r = app
        .send(
            rocket::http::Method::Delete,
            &format!("/api/v1/admin/websites/{site}/integrations/stripe"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status.code, 200);
    assert_eq!(connect(&app, &site, &token, FIRST_KEY).await["import"], "continued");
    assert_eq!(positions(&app, &site), before);
}

/// A rotation in the middle of the backfill: the new key goes on from the last page the old one stored.
#[rocket::async_test]
async fn a_rotation_in_the_middle_of_the_backfill_goes_on_from_its_cursor() {
    let account = Account::default();
    account.with(|d| {
        for i in 0..700 {
            d.charge(NewCharge { amount: 100 + i, created: unix_days_ago(4) - i, ..Default::default() });
        }
        d.delay = std::time::Duration::from_millis(120);
    });
    let (app, site, token) = app_for(&account, |f| f).await;
    connect(&app, &site, &token, FIRST_KEY).await;
    crate::import::wait_for(&app, &site, &token, |s| s["imported"].as_i64() >= Some(300)).await;
    assert_eq!(connect(&app, &site, &token, SECOND_KEY).await["import"], "continued");
    account.with(|d| d.delay = std::time::Duration::ZERO);
    let sync = crate::import::wait_for(&app, &site, &token, crate::import::finished).await;
    assert_eq!((sync["state"].as_str(), sync["imported"].as_i64()), (Some("idle"), Some(700)), "{sync}");
    assert_eq!(payment_ids(&app, &site).len(), 700);
    // 7 pages; a backfill started over would read at least 3 of them again.
    let pages = charge_pages_since(&app, 0).await.len();
    assert!((7..=8).contains(&pages), "went on from the saved cursor, at most the interrupted page twice: {pages}");
}
