//! Subscriptions imported from the Stripe fake and `GET /websites/{id}/mrr`: the figures of a small account computed
//! by hand, a key without `rak_subscription_read`, snapshots when a subscription changes (and the cache following),
//! and the route's checks.

use chrono::{Datelike, Months, NaiveDate, Utc};
use rocket::figment::Figment;
use serde_json::{Value, json};

use revlink::domain::ObjectId;

use crate::helpers::{TEST_KEY, TestApp, assert_error};
use crate::import::{finished, sync_now, wait_for};
use crate::stripe_account::{Account, NewCharge, unix_days_ago};
use crate::stripe_fake_billing::{BASIC, Billing, PRO, account, day, item, subscription};

fn importing(f: Figment) -> Figment {
    f.merge(("auto_import", true))
        .merge(("stripe_retry_base_ms", 5))
        .merge(("stripe_test_requests_per_second", 100_000))
        .merge(("sync_interval_secs", 3600))
}

/// An app importing from `account` and `billing`, its website connected and the first sync finished.
async fn imported(account: &Account, billing: &Billing) -> (TestApp, ObjectId, String) {
    let app = TestApp::with(importing).await;
    billing.mount(&app.stripe.server).await;
    account.mount(&app.stripe.server).await;
    let (_, site, token) = app.owner_with_site();
    let connected = app.connect(&site, &token, TEST_KEY).await;
    assert_eq!(connected.status.code, 200, "{}", connected.body);
    let sync = wait_for(&app, &site, &token, finished).await;
    assert_eq!(sync["state"], "idle", "{sync}");
    (app, site, token)
}

async fn mrr(app: &TestApp, site: &ObjectId, token: &str, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/admin/websites/{site}/mrr{query}"), token).await;
    assert_eq!(r.status.code, 200, "{}", r.body);
    r.body["data"][0].clone()
}

fn month(v: &Value) -> (i64, i64, i64, i64, i64, i64, u64) {
    let n = |k: &str| v[k].as_i64().unwrap();
    (
        n("mrr"),
        n("new"),
        n("expansion"),
        n("contraction"),
        n("churned"),
        n("reactivated"),
        v["activeSubscribers"].as_u64().unwrap(),
    )
}

#[rocket::async_test]
async fn subscriptions_are_imported_and_the_mrr_route_answers_the_hand_computed_figures() {
    let (account, billing) = account();
    let (app, site, token) = imported(&account, &billing).await;
    // The visitor cus_f's payment names came from Google.
    app.state()
        .db
        .with_conn(|c| {
            c.execute(
                "INSERT INTO visitors (website_id, visitor_id, first_seen, last_seen, last_session_id, referrer_host,
                     referrer, landing_path, hostname) VALUES (?1, 'v-from-google', 0, 0, 's', 'www.google.com', 'Google', '/', 'shop.example.com')",
                [&site],
            )?;
            Ok(())
        })
        .unwrap();

    let requests = billing.import_requests();
    assert_eq!(requests.len(), 1, "nine subscriptions are one page");
    let q = &requests[0];
    assert_eq!((q["status"][0].as_str(), q["limit"][0].as_str()), ("all", "100"));
    assert_eq!(q["expand[]"], vec!["data.discounts.source.coupon".to_owned()]);
    assert!(!q.contains_key("created[gt]"), "every subscription, whenever created: {q:?}");

    let body = mrr(&app, &site, &token, "").await;
    assert_eq!(body["currency"], "USD");
    assert_eq!(body["subscriptions"], json!({"available": true, "reason": null, "imported": 9, "live": 8}));
    assert_eq!(
        body["current"],
        json!({"mrr": 5200, "arr": 62_400, "activeSubscribers": 4, "arpu": 1300,
        "customerChurnRate": 0.0, "revenueChurnRate": 0.0})
    );
    assert_eq!(body["unconverted"], json!([{"currency": "GBP", "subscriptions": 1, "mrr": 1500}]));
    assert_eq!(
        body["bySource"],
        json!([
            {"source": "Not attributed", "mrr": 3000, "activeSubscribers": 3, "newMrr": 8000, "newSubscribers": 5},
            {"source": "Google", "mrr": 2200, "activeSubscribers": 1, "newMrr": 2200, "newSubscribers": 1},
        ]),
        "a, b, g now (and c, h, started in the range, since gone); f came from Google"
    );
    let series = body["series"].as_array().unwrap();
    assert_eq!(series.len(), 12, "the last 12 months by default");
    let this = NaiveDate::from_ymd_opt(Utc::now().year(), Utc::now().month(), 1).unwrap();
    assert_eq!(series[11]["month"], this.format("%Y-%m").to_string());
    assert_eq!(body["end"], series[11]["month"]);
    let back = |k: usize| &series[11 - k];
    assert_eq!(month(back(6)), (0, 0, 0, 0, 0, 0, 0));
    assert_eq!(month(back(5)), (6000, 6000, 0, 0, 0, 0, 3));
    assert_eq!(month(back(4)), (8000, 2000, 0, 0, 0, 0, 5));
    assert_eq!(month(back(3)), (5200, 2200, 0, 0, 5000, 0, 4));
    assert_eq!(
        (back(3)["customerChurnRate"].as_f64(), back(3)["revenueChurnRate"].as_f64()),
        (Some(33.33), Some(62.5))
    );
    for k in 0..3 {
        assert_eq!(month(back(k)), (5200, 0, 0, 0, 0, 0, 4), "M-{k}");
    }

    let some = mrr(
        &app,
        &site,
        &token,
        &format!("?start={}&end={}", back(4)["month"].as_str().unwrap(), back(3)["month"].as_str().unwrap()),
    )
    .await;
    let months: Vec<i64> = some["series"].as_array().unwrap().iter().map(|m| m["mrr"].as_i64().unwrap()).collect();
    assert_eq!(months, vec![8000, 5200]);
}

#[rocket::async_test]
async fn a_key_without_subscription_read_imports_payments_and_says_why_there_is_no_mrr() {
    let (account, billing) = account();
    billing.forbidden.store(true, std::sync::atomic::Ordering::SeqCst);
    let (app, site, token) = imported(&account, &billing).await;
    let sync = wait_for(&app, &site, &token, finished).await;
    assert_eq!(
        (sync["state"].as_str(), sync["lastError"].as_str(), sync["imported"].as_i64()),
        (Some("idle"), None, Some(1))
    );
    let body = mrr(&app, &site, &token, "").await;
    assert_eq!(body["subscriptions"]["available"], false);
    assert_eq!(body["subscriptions"]["reason"], "The key lacks the rak_subscription_read permission");
    assert_eq!(body["current"]["mrr"], 0);

    // Granted later: the next sync reads them.
    billing.forbidden.store(false, std::sync::atomic::Ordering::SeqCst);
    sync_now(&app, &site, &token).await;
    let body = mrr(&app, &site, &token, "").await;
    assert_eq!(
        (body["subscriptions"]["available"].as_bool(), body["current"]["mrr"].as_i64()),
        (Some(true), Some(5200))
    );
}

#[rocket::async_test]
async fn a_change_is_snapshotted_and_the_cached_figures_follow_the_import() {
    let (account, billing) = account();
    let (app, site, token) = imported(&account, &billing).await;
    assert_eq!(mrr(&app, &site, &token, "").await["current"]["mrr"], 5200);
    let version = || app.state().db.with_conn(|c| revlink::db::subscriptions::access(c, &site)).unwrap().version;
    let before = version();
    sync_now(&app, &site, &token).await;
    assert_eq!(version(), before, "nothing changed: the cache stays");

    billing.update("sub_a", |s| s["items"]["data"][0]["quantity"] = json!(3));
    sync_now(&app, &site, &token).await;
    assert!(version() > before);
    let body = mrr(&app, &site, &token, "").await;
    assert_eq!(body["current"]["mrr"], 7200, "recomputed at once");
    let series = body["series"].as_array().unwrap();
    assert_eq!(month(&series[11]), (7200, 0, 2000, 0, 0, 0, 4), "an expansion this month");
    assert_eq!(series[10]["mrr"], 5200, "last month as it was: the first state seen is kept");

    let snapshots: Vec<(String, String)> = app
        .state()
        .db
        .with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT month, json_extract(plan, '$.items[0].quantity') FROM subscription_snapshots
                 WHERE website_id = ?1 AND subscription_id = 'sub_a'",
            )?;
            let rows = stmt.query_map([&site], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.to_string())))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .unwrap();
    assert_eq!(snapshots.len(), 1, "one snapshot per month: {snapshots:?}");
    assert_eq!(snapshots[0].1, "3");
}

/// A subscription deleted in Stripe (with its customer) no longer appears in the list: the first whole pass that
/// misses it records it as canceled then, so it stops counting in MRR and churns this month.
#[rocket::async_test]
async fn a_subscription_gone_from_stripe_is_recorded_as_canceled() {
    let (account, billing) = account();
    let (app, site, token) = imported(&account, &billing).await;
    assert_eq!(mrr(&app, &site, &token, "").await["current"]["mrr"], 5200);
    billing.subscriptions.lock().unwrap().retain(|s| s["id"] != "sub_a");
    // A pass is known by the second it started: the next one starts in a later second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    sync_now(&app, &site, &token).await;
    let body = mrr(&app, &site, &token, "").await;
    assert_eq!(body["current"]["mrr"], 4200, "{body}");
    let series = body["series"].as_array().unwrap();
    assert_eq!(series[11]["churned"].as_i64().map(i64::abs), Some(1000), "{}", series[11]);
    assert_eq!(series[10]["mrr"], 5200, "last month as it was");
    let (status, ended): (String, Option<i64>) = app
        .state()
        .db
        .with_conn(|c| {
            Ok(c.query_row(
                "SELECT status, ended_at FROM subscriptions WHERE website_id = ?1 AND id = 'sub_a'",
                [&site],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap();
    assert_eq!(status, "canceled");
    assert!(ended.is_some_and(|t| t > unix_days_ago(1)), "ended when the pass missed it");
    // Seen again (it was only hidden): listed as Stripe says.
    billing.add(subscription("sub_a", "cus_a", "usd", "active", day(5, 2), vec![item("sub_a", &BASIC, 1, day(0, 2))]));
    sync_now(&app, &site, &token).await;
    assert_eq!(mrr(&app, &site, &token, "").await["current"]["mrr"], 5200);
}

/// A key of another Stripe account: MRR is the new account's alone (the old account's subscriptions are forgotten;
/// its payments stay).
#[rocket::async_test]
async fn a_key_of_another_account_forgets_the_previous_accounts_subscriptions() {
    let (account, billing) = account();
    let (app, site, token) = imported(&account, &billing).await;
    assert_eq!(mrr(&app, &site, &token, "").await["current"]["mrr"], 5200);

    let other = Account::default();
    other.with(|d| {
        d.skip_ids(1000);
        d.charge(NewCharge { amount: 3000, customer: "cus_z", created: unix_days_ago(2), ..Default::default() });
    });
    let other_billing = Billing::default();
    other_billing.add(subscription(
        "sub_z",
        "cus_z",
        "usd",
        "active",
        day(1, 2),
        vec![item("sub_z", &PRO, 1, day(0, 2))],
    ));
    app.stripe.reset().await;
    other_billing.mount(&app.stripe.server).await;
    other.mount(&app.stripe.server).await;
    let connected = app.connect(&site, &token, "rk_test_51AnotherAccountKeyAbcdefg").await;
    assert_eq!(connected.body["data"][0]["import"], "started over", "{}", connected.body);
    wait_for(&app, &site, &token, finished).await;
    let body = mrr(&app, &site, &token, "").await;
    assert_eq!((body["current"]["mrr"].as_i64(), body["current"]["activeSubscribers"].as_i64()), (Some(3000), Some(1)));
}

#[rocket::async_test]
async fn the_mrr_route_checks_its_range_and_who_asks() {
    let app = TestApp::new().await;
    let (owner, site, token) = app.owner_with_site();
    let url = format!("/api/v1/admin/websites/{site}/mrr");
    let empty = app.get(&url, &token).await;
    assert_eq!(empty.status.code, 200);
    assert_eq!(
        empty.body["data"][0]["subscriptions"],
        json!({"available": null, "reason": null, "imported": 0, "live": 0})
    );
    assert_error(&app.get(&format!("{url}?start=June"), &token).await, 400, "start must be a month such as 2026-03");
    assert_error(
        &app.get(&format!("{url}?start=2026-05&end=2026-04"), &token).await,
        400,
        "start must not be after end",
    );
    let next = NaiveDate::from_ymd_opt(Utc::now().year(), Utc::now().month(), 1).unwrap() + Months::new(1);
    let future = app.get(&format!("{url}?end={}", next.format("%Y-%m")), &token).await;
    assert_eq!(future.status.code, 400);
    assert!(future.message().starts_with("end must not be after the current month"), "{}", future.body);
    let long = app.get(&format!("{url}?start=2001-01"), &token).await;
    assert!(long.message().starts_with("A range may span at most 120 months"), "{}", long.body);
    assert_error(
        &app.get(&format!("{url}?start=2026-01&start=2026-02"), &token).await,
        400,
        "Query parameter start was sent more than once; send it once",
    );

    let payments_only = app.token(&owner, &["payments:read"], &[]);
    assert_eq!(app.get(&url, &payments_only).await.status.code, 403);
    assert_eq!(app.get(&url, &app.website_key(&site)).await.status.code, 200, "a website key reads it");
    let stranger = app.user("stranger@example.com");
    assert_error(&app.get(&url, &app.full_token(&stranger)).await, 404, "Website not found");
}

#[rocket::async_test]
async fn the_revenue_metric_is_a_website_setting() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let url = format!("/api/v1/admin/websites/{site}");
    assert_eq!(app.get(&url, &token).await.body["data"][0]["revenueMetric"], "revenue", "the default");
    let put = |body: &'static str| app.send(rocket::http::Method::Put, &url, Some(&token), Some(body));
    let set = put(r#"{"revenueMetric":"mrr"}"#).await;
    assert_eq!((set.status.code, &set.body["data"][0]["revenueMetric"]), (200, &json!("mrr")), "{}", set.body);
    assert_eq!(app.get(&url, &token).await.body["data"][0]["revenueMetric"], "mrr");
    assert_error(
        &put(r#"{"revenueMetric":"arr"}"#).await,
        400,
        r#"Invalid revenueMetric: "arr" must be "revenue" or "mrr""#,
    );
    assert_eq!(put(r#"{"revenueMetric":null}"#).await.status.code, 400, "null is refused, not ignored");
    let list = app.get("/api/v1/admin/websites", &token).await;
    assert!(list.body["data"][0].get("revenueMetric").is_none(), "as DataFast: in a website's answer, not the list");
}
