//! Verification probes what the import does (issue 12, point 2): the `limit=1` probes are the import's own list calls
//! with the same filters and `expand[]`, so a permission an expansion needs is named at connect; the optional
//! permissions (`rak_subscription_read`, `rak_dispute_read`) are probed too, never fail the connect, and are
//! remembered on the connection (and checked again at each sync).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{LIVE_KEY, TEST_KEY, TestApp, assert_error};
use crate::import::{app_for, finished, sync_now, wait_for};
use crate::stripe_account::{Account, NewCharge};
use crate::stripe_fake::{list, missing_permission};

/// A request's query without what pages differ by (`limit`, `created[gt]`, `starting_after`).
fn fixed_params(r: &wiremock::Request) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = r
        .url
        .query_pairs()
        .filter(|(k, _)| !matches!(&**k, "limit" | "created[gt]" | "starting_after"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    q.sort();
    q
}

#[rocket::async_test]
async fn the_probes_are_the_imports_own_calls() {
    let account = Account::default();
    account.with(|d| {
        d.charge(NewCharge::default());
    });
    let (app, site, token) = app_for(&account, |f| f).await;
    assert_eq!(app.connect(&site, &token, TEST_KEY).await.status.code, 200);
    wait_for(&app, &site, &token, finished).await;

    let requests = app.stripe.server.received_requests().await.unwrap();
    let mut probes: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut pages: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for r in requests.iter().filter(|r| r.url.path() != "/v1/balance") {
        let limit = r.url.query_pairs().find(|(k, _)| k == "limit").map(|(_, v)| v.into_owned());
        let into = if limit.as_deref() == Some("1") { &mut probes } else { &mut pages };
        into.entry(r.url.path().to_owned()).or_insert_with(|| fixed_params(r));
    }
    assert_eq!(
        pages.keys().collect::<Vec<_>>(),
        ["/v1/charges", "/v1/checkout/sessions", "/v1/disputes", "/v1/invoices", "/v1/refunds", "/v1/subscriptions"],
        "the backfill reads these lists (disputes and subscriptions are optional)"
    );
    for (list_path, params) in &pages {
        assert_eq!(probes.get(list_path), Some(params), "{list_path}: the probe asks what the import asks");
    }
    assert_eq!(
        pages["/v1/charges"],
        [
            ("expand[]".to_owned(), "data.balance_transaction".to_owned()),
            ("expand[]".into(), "data.payment_intent".into())
        ]
    );
    assert_eq!(pages["/v1/invoices"], [("expand[]".to_owned(), "data.payments".to_owned())]);
    assert_eq!(pages["/v1/refunds"], [], "refunds are listed as they are");
    assert_eq!(
        pages["/v1/subscriptions"],
        [("expand[]".to_owned(), "data.discounts.source.coupon".to_owned()), ("status".into(), "all".into())],
        "every status, and the coupons a forever discount takes off MRR"
    );
    assert!(probes.contains_key("/v1/disputes") && probes.contains_key("/v1/payment_intents"));
}

/// Stripe lists charges for this key, but refuses to expand what the import expands on them: the connect names the
/// permission Stripe asks for, instead of the import stopping on it later.
#[rocket::async_test]
async fn a_permission_an_expansion_needs_is_named_at_connect() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    Mock::given(method("GET"))
        .and(path("/v1/charges"))
        .and(query_param("expand[]", "data.balance_transaction"))
        .respond_with(missing_permission("rak_balance_transaction_source_read"))
        .mount(&app.stripe.server)
        .await;
    app.stripe.healthy(true, &[(1, "usd")]).await;
    let reply = app.connect(&site, &token, LIVE_KEY).await;
    assert_error(
        &reply,
        400,
        "This key is missing Stripe permissions: rak_balance_transaction_source_read. Grant Read access to them and try again.",
    );
}

async fn stripe_status(app: &TestApp, site: &revlink::domain::ObjectId, token: &str) -> Value {
    app.get(&format!("/api/v1/admin/websites/{site}/integrations/stripe"), token).await.body["data"][0].clone()
}

#[rocket::async_test]
async fn a_missing_optional_permission_connects_and_says_what_it_would_add() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    app.stripe.answer("/v1/subscriptions", missing_permission("rak_subscription_read")).await;
    app.stripe.healthy(true, &[(700, "usd")]).await;

    let reply = app.connect(&site, &token, LIVE_KEY).await;
    assert_eq!(reply.status.code, 200, "{}", reply.body);
    assert_eq!(
        reply.body["data"][0],
        json!({"message": "Stripe connected successfully", "currency": "USD", "import": "started",
               "missingOptionalPermissions": [{"permission": "rak_subscription_read",
                   "adds": "subscriptions: MRR, ARR, churn and their movements"}]})
    );
    let status = stripe_status(&app, &site, &token).await;
    assert_eq!(status["optionalPermissions"], json!({"subscriptions": false, "disputes": true}));
    let all = app.get(&format!("/api/v1/admin/websites/{site}/integrations"), &token).await;
    assert_eq!(all.body["data"][0]["stripe"]["optionalPermissions"], status["optionalPermissions"]);
}

#[rocket::async_test]
async fn only_required_permissions_are_named_in_a_refusal() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    app.stripe.answer("/v1/subscriptions", missing_permission("rak_subscription_read")).await;
    app.stripe.answer("/v1/disputes", missing_permission("rak_dispute_read")).await;
    app.stripe.answer("/v1/invoices", missing_permission("rak_invoice_read")).await;
    app.stripe.healthy(true, &[(1, "usd")]).await;
    let reply = app.connect(&site, &token, LIVE_KEY).await;
    assert_error(
        &reply,
        400,
        "This key is missing Stripe permissions: rak_invoice_read. Grant Read access to them and try again.",
    );
}

#[rocket::async_test]
async fn an_optional_permission_granted_later_counts_from_the_next_sync() {
    let account = Account::default();
    account.with(|d| {
        d.charge(NewCharge::default());
    });
    let (app, site, token) = app_for(&account, |f| f).await;
    // Without the permission: Stripe answers 403 (this fake has no disputes list at all: a 404, also "not granted").
    Mock::given(method("GET"))
        .and(path("/v1/subscriptions"))
        .respond_with(missing_permission("rak_subscription_read"))
        .up_to_n_times(2)
        .with_priority(2)
        .mount(&app.stripe.server)
        .await;
    let reply = app.connect(&site, &token, TEST_KEY).await;
    let missing: Vec<&str> = reply.body["data"][0]["missingOptionalPermissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["permission"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["rak_subscription_read", "rak_dispute_read"]);
    wait_for(&app, &site, &token, finished).await;
    assert_eq!(stripe_status(&app, &site, &token).await["optionalPermissions"]["subscriptions"], false);

    // The merchant sets Subscriptions to Read on the same key in Stripe's dashboard, then presses "Sync now".
    Mock::given(method("GET"))
        .and(path("/v1/subscriptions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list("/v1/subscriptions", vec![])))
        .with_priority(3)
        .mount(&app.stripe.server)
        .await;
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!(sync["state"], "idle", "{sync}");
    assert_eq!(
        stripe_status(&app, &site, &token).await["optionalPermissions"],
        json!({"subscriptions": true, "disputes": false})
    );
}

/// The additive fields are documented (schemathesis checks answers against the document).
#[rocket::async_test]
async fn the_connect_answer_and_the_status_document_their_additive_fields() {
    let app = TestApp::new().await;
    let doc = app.send(rocket::http::Method::Get, "/api/v1/openapi.json", None, None).await.body;
    let schemas = &doc["components"]["schemas"];
    let connected = &schemas["StripeConnected"];
    assert_eq!(
        connected["required"],
        json!(["message", "currency", "import", "missingOptionalPermissions"]),
        "{connected}"
    );
    assert_eq!(schemas["ImportStart"]["enum"], json!(["started", "continued", "started over"]));
    assert_eq!(schemas["MissingPermission"]["required"], json!(["permission", "adds"]));
    assert!(schemas["StripeStatus"]["required"].as_array().unwrap().contains(&json!("optionalPermissions")));
    assert_eq!(schemas["OptionalPermissions"]["required"], json!(["subscriptions", "disputes"]));
}
