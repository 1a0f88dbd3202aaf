//! The Stripe import against an in-process Stripe account (wiremock on 127.0.0.1): backfill across
//! pages, incremental syncs, attribution, renewals, settlement, Stripe's failures, disconnect and a
//! restart in the middle of a backfill.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rocket::figment::Figment;
use rocket::http::Method;
use serde_json::{Value, json};

use revlink::domain::ObjectId;

use crate::helpers::{TEST_KEY, TestApp, assert_error};
use crate::stripe_account::{Account, Fault, NewCharge, unix_days_ago};

fn importing(f: Figment) -> Figment {
    f.merge(("auto_import", true))
        .merge(("stripe_retry_base_ms", 5))
        .merge(("stripe_test_requests_per_second", 100_000))
        .merge(("sync_interval_secs", 3600))
}

pub(crate) async fn app_for(account: &Account, adjust: impl FnOnce(Figment) -> Figment) -> (TestApp, ObjectId, String) {
    let app = TestApp::with(|f| adjust(importing(f))).await;
    account.mount(&app.stripe.server).await;
    let (_, site, token) = app.owner_with_site();
    (app, site, token)
}

async fn stripe_status(app: &TestApp, site: &ObjectId, token: &str) -> Value {
    let r = app.get(&format!("/api/v1/admin/websites/{site}/integrations/stripe"), token).await;
    assert_eq!(r.status.code, 200, "{}", r.body);
    r.body["data"][0].clone()
}

/// Polls the sync state until `done` holds (or fails the test after 20 s).
pub(crate) async fn wait_for(app: &TestApp, site: &ObjectId, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = stripe_status(app, site, token).await;
        if done(&s["sync"]) {
            return s["sync"].clone();
        }
        assert!(Instant::now() < deadline, "sync did not get there: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) fn finished(s: &Value) -> bool {
    s["state"] != "running" && (s["phase"] == "incremental" || s["state"] == "error")
}

/// Starts a sync through the API and waits until it has run.
pub(crate) async fn sync_now(app: &TestApp, site: &ObjectId, token: &str) -> Value {
    let before = stripe_status(app, site, token).await["sync"]["startedAt"].clone();
    let r = app
        .send(Method::Post, &format!("/api/v1/admin/websites/{site}/integrations/stripe/sync"), Some(token), None)
        .await;
    assert_eq!((r.status.code, r.body["data"][0]["message"].as_str()), (202, Some("Stripe sync started")));
    wait_for(app, site, token, |s| s["state"] != "running" && s["startedAt"] != before).await
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    amount: i64,
    currency: String,
    refunded: i64,
    settled: Option<(i64, String, i64)>,
    renewal: bool,
    visitor: Option<String>,
    session: Option<String>,
}

fn stored(app: &TestApp, site: &ObjectId) -> HashMap<String, Stored> {
    app.state()
        .db
        .with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT transaction_id, amount, currency, refunded_amount, settled_amount, settled_currency, fee,
                        renewal, visitor_id, session_id FROM payments WHERE website_id = ?1",
            )?;
            let rows = stmt.query_map([site], |r| {
                let settled: Option<i64> = r.get(4)?;
                Ok((
                    r.get::<_, String>(0)?,
                    Stored {
                        amount: r.get(1)?,
                        currency: r.get(2)?,
                        refunded: r.get(3)?,
                        settled: settled.map(|a| (a, r.get(5).unwrap(), r.get(6).unwrap())),
                        renewal: r.get(7)?,
                        visitor: r.get(8)?,
                        session: r.get(9)?,
                    },
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .unwrap()
}

/// The query strings of the import's requests to one list.
async fn requests_to(app: &TestApp, path: &str) -> Vec<HashMap<String, String>> {
    let requests = app.stripe.server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|r| r.url.path() == path && r.url.query_pairs().all(|(k, v)| k != "limit" || v != "1"))
        .map(|r| r.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .collect()
}

fn created_gt(query: &HashMap<String, String>) -> Option<i64> {
    query.get("created[gt]").map(|t| t.parse().unwrap())
}

#[rocket::async_test]
async fn backfill_reads_every_page_then_syncs_what_is_new_and_what_changed() {
    let account = Account::default();
    let ids: Vec<String> = account.with(|d| {
        let ids = (0..250)
            .map(|i| {
                d.charge(NewCharge { amount: 1000 + i, created: unix_days_ago(i % 300) - i, ..Default::default() }).0
            })
            .collect();
        d.charge(NewCharge { status: "failed", ..Default::default() });
        d.charge(NewCharge { created: unix_days_ago(800), ..Default::default() });
        ids
    });
    let (app, site, token) = app_for(&account, |f| f).await;
    let started = Instant::now();
    let connected = app.connect(&site, &token, TEST_KEY).await;
    assert_eq!(connected.status.code, 200, "{}", connected.body);
    assert!(started.elapsed() < Duration::from_secs(2), "connect answers without waiting for the import");

    let sync = wait_for(&app, &site, &token, finished).await;
    assert_eq!((sync["state"].as_str(), sync["phase"].as_str()), (Some("idle"), Some("incremental")), "{sync}");
    assert_eq!(
        (sync["imported"].as_i64(), &sync["lastError"], &sync["progress"]),
        (Some(250), &Value::Null, &Value::Null)
    );
    assert!(sync["lastSyncAt"].is_string());
    let payments = stored(&app, &site);
    assert_eq!(payments.len(), 250, "failed and too-old charges are not payments");
    assert!(ids.iter().enumerate().all(|(i, id)| payments[id].amount == 1000 + i64::try_from(i).unwrap()));

    let pages = requests_to(&app, "/v1/charges").await;
    assert_eq!(pages.len(), 3, "250 charges are three pages of 100");
    assert_eq!(pages.iter().filter(|q| q.contains_key("starting_after")).count(), 2);
    let since = unix_days_ago(730)..=unix_days_ago(730) + 10;
    let back_to_since = |q: &HashMap<String, String>| created_gt(q).is_some_and(|gt| since.contains(&(gt + 5)));
    assert!(pages.iter().all(back_to_since), "backfill reads back to import_since_days: {pages:?}");

    // Later: a new payment, a refund on a charge from 200 days ago and one on a charge from 5 days ago.
    let old = ids.iter().find(|id| payments[*id].amount == 1000 + 200).unwrap().clone();
    let recent = ids[5].clone();
    let new = account.with(|d| {
        d.refund(&old, 400);
        d.refund(&recent, 1005);
        d.charge(NewCharge { amount: 4200, created: unix_days_ago(0), ..Default::default() }).0
    });
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!((sync["state"].as_str(), sync["imported"].as_i64()), (Some("idle"), Some(251)), "{sync}");
    let payments = stored(&app, &site);
    assert_eq!((payments[&new].amount, payments[&old].refunded, payments[&recent].refunded), (4200, 400, 1005));

    let incremental = requests_to(&app, "/v1/charges").await.split_off(3);
    let (gt, rescan) = (created_gt(&incremental[0]).unwrap(), unix_days_ago(30));
    assert!((rescan - 5..=rescan + 5).contains(&gt), "a sync re-reads the last 30 days, not the history");
    // The backfill lists every refund (for their charges: they are few), a later sync those since the last one.
    let refunds: Vec<Option<i64>> = requests_to(&app, "/v1/refunds").await.iter().map(created_gt).collect();
    assert!(refunds.len() == 2 && refunds[0].is_none() && refunds[1] > Some(unix_days_ago(1)), "{refunds:?}");
}

/// The same account, listed newest first (Stripe) and oldest first (localstripe), gives the same payments.
#[rocket::async_test]
async fn attribution_and_renewals_from_charge_intent_checkout_session_or_invoice() {
    let mut results = Vec::new();
    for oldest_first in [false, true] {
        let account = Account::default();
        let ids = account.with(|d| {
            d.oldest_first = oldest_first;
            let day = unix_days_ago(20);
            let on_charge = d.charge(NewCharge {
                metadata: json!({"datafast_visitor_id": "v-charge", "datafast_session_id": "s-charge"}),
                created: day,
                ..Default::default()
            });
            let on_intent = d.charge(NewCharge {
                intent_metadata: Some(json!({"datafast_visitor_id": "v-intent"})),
                created: day + 1,
                ..Default::default()
            });
            let on_session = d.charge(NewCharge { created: day + 2, ..Default::default() });
            d.session(
                Some(&on_session.1),
                None,
                json!({"datafast_visitor_id": "v-session", "datafast_session_id": "s-session"}),
                day,
            );
            // A subscription: checkout session → its first invoice → the charge; then a renewal, which
            // belongs to the same visitor through the customer.
            let first = d.charge(NewCharge { created: day + 3, customer: "cus_subscriber", ..Default::default() });
            let invoice = d.invoice(&first.0, "subscription_create", day + 3, false);
            d.session(None, Some(&invoice), json!({"datafast_visitor_id": "v-subscriber"}), day);
            let renewal = d.charge(NewCharge { created: day + 4, customer: "cus_subscriber", ..Default::default() });
            d.invoice(&renewal.0, "subscription_cycle", day + 4, false);
            // A renewal (old API shape) of a customer nobody attributed stays unattributed.
            let old_api_renewal =
                d.charge(NewCharge { created: day + 5, customer: "cus_unknown", ..Default::default() });
            d.invoice(&old_api_renewal.0, "subscription_cycle", day + 5, true);
            let plain = d.charge(NewCharge { created: day + 6, ..Default::default() });
            [on_charge.0, on_intent.0, on_session.0, first.0, renewal.0, old_api_renewal.0, plain.0]
        });
        let (app, site, token) = app_for(&account, |f| f).await;
        app.connect(&site, &token, TEST_KEY).await;
        let sync = wait_for(&app, &site, &token, finished).await;
        assert_eq!(sync["state"], "idle", "{sync}");
        let p = stored(&app, &site);
        let got: Vec<(Option<&str>, Option<&str>, bool)> =
            ids.iter().map(|id| (p[id].visitor.as_deref(), p[id].session.as_deref(), p[id].renewal)).collect();
        assert_eq!(
            got,
            [
                (Some("v-charge"), Some("s-charge"), false),
                (Some("v-intent"), None, false),
                (Some("v-session"), Some("s-session"), false),
                (Some("v-subscriber"), None, false),
                (Some("v-subscriber"), None, true),
                (None, None, true),
                (None, None, false),
            ],
            "oldest_first = {oldest_first}"
        );
        results
            .push(got.into_iter().map(|(v, s, r)| (v.map(str::to_owned), s.map(str::to_owned), r)).collect::<Vec<_>>());
    }
    assert_eq!(results[0], results[1]);
}

#[rocket::async_test]
async fn settlement_in_the_account_currency_counts_in_revenue() {
    let account = Account::default();
    let (eur, usd) = account.with(|d| {
        let eur = d.charge(NewCharge {
            amount: 2900,
            currency: "eur",
            settled: Some((3190, "usd")),
            created: unix_days_ago(3),
            ..Default::default()
        });
        let usd = d.charge(NewCharge {
            amount: 1000,
            currency: "usd",
            created: unix_days_ago(3),
            refunded: 250,
            ..Default::default()
        });
        (eur.0, usd.0)
    });
    let (app, site, token) = app_for(&account, |f| f).await;
    app.connect(&site, &token, TEST_KEY).await;
    wait_for(&app, &site, &token, finished).await;
    let p = stored(&app, &site);
    assert_eq!((p[&eur].amount, p[&eur].currency.as_str()), (2900, "EUR"));
    assert_eq!(p[&eur].settled, Some((3190, "USD".to_owned(), 3190 * 29 / 1000 + 30)));
    assert_eq!(p[&usd].refunded, 250);

    let day = |d: i64| time::OffsetDateTime::from_unix_timestamp(unix_days_ago(d)).unwrap().date();
    let r = app.get(&format!("/api/v1/admin/websites/{site}/revenue?start={}&end={}", day(5), day(0)), &token).await;
    let d = &r.body["data"][0];
    assert_eq!(
        (d["currency"].as_str(), d["gross"].as_i64(), d["refunds"].as_i64(), d["payments"].as_u64()),
        (Some("USD"), Some(4190), Some(250), Some(2)),
        "{d}"
    );
}

#[rocket::async_test]
async fn rate_limit_storms_and_server_errors_are_retried_with_backoff() {
    let account = Account::default();
    account.with(|d| {
        for i in 0..150 {
            d.charge(NewCharge { created: unix_days_ago(1) - i, ..Default::default() });
        }
        d.fault = Some(Fault::RateLimited(6));
    });
    let (app, site, token) = app_for(&account, |f| f).await;
    app.connect(&site, &token, TEST_KEY).await;
    let sync = wait_for(&app, &site, &token, finished).await;
    assert_eq!((sync["state"].as_str(), sync["imported"].as_i64()), (Some("idle"), Some(150)), "{sync}");
    assert_eq!(account.faulted.load(std::sync::atomic::Ordering::SeqCst), 6, "every 429 was answered by a retry");

    account.with(|d| d.fault = Some(Fault::ServerError(3)));
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!((sync["state"].as_str(), &sync["lastError"]), (Some("idle"), &Value::Null), "{sync}");
    assert_eq!(account.faulted.load(std::sync::atomic::Ordering::SeqCst), 9);
}

#[rocket::async_test]
async fn stripe_failing_past_the_retries_is_an_error_the_next_sync_recovers_from() {
    let account = Account::default();
    account.with(|d| {
        d.charge(NewCharge::default());
        d.fault = Some(Fault::ServerError(1000));
    });
    let (app, site, token) = app_for(&account, |f| f.merge(("stripe_max_retries", 2))).await;
    app.connect(&site, &token, TEST_KEY).await;
    let sync = wait_for(&app, &site, &token, |s| s["state"] == "error").await;
    assert_eq!(
        sync["lastError"], "Stripe failed (500), 3 times in a row; revlink tries again at the next sync",
        "{sync}"
    );
    assert_eq!(account.calls(), 3, "two retries, then the sync stops");

    account.with(|d| d.fault = None);
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!(
        (sync["state"].as_str(), sync["imported"].as_i64(), &sync["lastError"]),
        (Some("idle"), Some(1), &Value::Null)
    );
}

#[rocket::async_test]
async fn a_key_revoked_mid_import_stops_it_until_someone_acts() {
    let account = Account::default();
    account.with(|d| {
        for i in 0..400 {
            d.charge(NewCharge { created: unix_days_ago(2) - i, ..Default::default() });
        }
        d.delay = Duration::from_millis(100);
    });
    let (app, site, token) = app_for(&account, |f| f.merge(("sync_interval_secs", 1))).await;
    app.connect(&site, &token, TEST_KEY).await;
    wait_for(&app, &site, &token, |s| s["imported"].as_i64() > Some(0)).await;
    account.with(|d| d.fault = Some(Fault::Revoked));
    let sync = wait_for(&app, &site, &token, |s| s["state"] == "error").await;
    assert_eq!(
        sync["lastError"],
        "Stripe rejected the key: it is invalid, expired or revoked. Create a new restricted key and connect it."
    );
    let imported = sync["imported"].as_i64().unwrap();
    assert!((100..400).contains(&imported), "what was read stays: {imported}");
    let calls = account.calls();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(account.calls(), calls, "no retry of a refused key, not even on the schedule");

    // The owner fixes the key in Stripe's dashboard and asks for a sync.
    account.with(|d| {
        d.fault = None;
        d.delay = Duration::ZERO;
    });
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!((sync["state"].as_str(), sync["imported"].as_i64()), (Some("idle"), Some(400)), "{sync}");
}

#[rocket::async_test]
async fn disconnect_stops_the_import_within_a_second_and_reconnect_finishes_it() {
    let account = Account::default();
    account.with(|d| {
        for i in 0..1000 {
            d.charge(NewCharge { amount: 100 + i, created: unix_days_ago(3) - i, ..Default::default() });
        }
        d.delay = Duration::from_millis(150);
    });
    let (app, site, token) = app_for(&account, |f| f).await;
    app.connect(&site, &token, TEST_KEY).await;
    wait_for(&app, &site, &token, |s| s["imported"].as_i64() > Some(0)).await;
    let r = app
        .send(Method::Delete, &format!("/api/v1/admin/websites/{site}/integrations/stripe"), Some(&token), None)
        .await;
    assert_eq!(r.status.code, 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (calls, imported) = (account.calls(), stored(&app, &site).len());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!((account.calls(), stored(&app, &site).len()), (calls, imported), "nothing read or written after 1 s");
    let status = stripe_status(&app, &site, &token).await;
    assert_eq!((status["connected"].as_bool(), status["sync"]["state"].as_str()), (Some(false), Some("idle")));
    assert!((100..1000).contains(&imported), "imported revenue stays: {imported}");
    assert_error(
        &app.send(Method::Post, &format!("/api/v1/admin/websites/{site}/integrations/stripe/sync"), Some(&token), None)
            .await,
        404,
        "Stripe is not connected",
    );

    account.with(|d| d.delay = Duration::ZERO);
    app.connect(&site, &token, TEST_KEY).await;
    let sync = wait_for(&app, &site, &token, finished).await;
    assert_eq!((sync["state"].as_str(), sync["imported"].as_i64()), (Some("idle"), Some(1000)), "{sync}");
    let total: i64 = stored(&app, &site).values().map(|p| p.amount).sum();
    assert_eq!(total, (0..1000).map(|i| 100 + i).sum::<i64>());
}

/// revlink stopped abruptly (its runtime dropped with the import mid-page) and started again on the
/// same data: the backfill resumes from its cursor and ends with exactly the account's payments.
#[test]
fn a_restart_in_the_middle_of_a_backfill_loses_and_repeats_nothing() {
    let account = Account::default();
    account.with(|d| {
        for i in 0..700 {
            d.charge(NewCharge { amount: 100 + i, created: unix_days_ago(4) - i, ..Default::default() });
        }
        d.delay = Duration::from_millis(120);
    });
    let first = tokio::runtime::Runtime::new().unwrap();
    let (dir, stripe, site, token) = first.block_on(async {
        let (app, site, token) = app_for(&account, |f| f).await;
        app.connect(&site, &token, TEST_KEY).await;
        wait_for(&app, &site, &token, |s| s["imported"].as_i64() >= Some(300)).await;
        let (dir, stripe) = app.into_parts();
        (dir, stripe, site, token)
    });
    drop(first);

    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        account.with(|d| d.delay = Duration::ZERO);
        let app = TestApp::start(dir, stripe, importing).await;
        let sync = wait_for(&app, &site, &token, finished).await;
        assert_eq!((sync["state"].as_str(), sync["imported"].as_i64()), (Some("idle"), Some(700)), "{sync}");
        let payments = stored(&app, &site);
        let total: i64 = payments.values().map(|p| p.amount).sum();
        assert_eq!(total, (0..700).map(|i| 100 + i).sum::<i64>(), "each charge once");
        // 7 pages; a backfill started over would read at least 3 of them again.
        let pages = requests_to(&app, "/v1/charges").await.len();
        assert!((7..=8).contains(&pages), "resumed from the saved cursor, at most the interrupted page twice: {pages}");
    });
}

#[rocket::async_test]
async fn a_permission_removed_in_stripe_is_named_and_not_retried() {
    let account = Account::default();
    account.with(|d| {
        d.charge(NewCharge::default());
        d.fault = Some(Fault::Forbidden("/v1/invoices", "rak_invoice_read"));
    });
    let (app, site, token) = app_for(&account, |f| f).await;
    app.connect(&site, &token, TEST_KEY).await;
    let sync = wait_for(&app, &site, &token, |s| s["state"] == "error").await;
    assert_eq!(
        sync["lastError"],
        "The key is missing the rak_invoice_read permission the import needs. Grant it Read access in Stripe's dashboard, then sync again."
    );
    assert_eq!(account.faulted.load(std::sync::atomic::Ordering::SeqCst), 1, "a 403 is not retried");

    account.with(|d| d.fault = None);
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!((sync["state"].as_str(), sync["imported"].as_i64()), (Some("idle"), Some(1)), "{sync}");
}
