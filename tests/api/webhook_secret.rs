//! A Stripe webhook's signing secret: set with the key or alone, replaced, removed, never shown; and the webhook
//! routes in the API's document. (Deliveries themselves are `webhooks.rs`.)

use revlink::domain::Role;
use rocket::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TEST_KEY, TestApp, assert_error};
use crate::webhooks::{
    INVALID_SECRET, MISMATCH, NOT_CONFIGURED, OTHER_WHSEC, WHSEC, count, deliver, event, integration, signed, url,
};

#[rocket::async_test]
async fn the_secret_is_set_replaced_and_removed_and_never_shown() {
    let app = TestApp::with(|f| f.merge(("public_url", "https://revlink.example.com/"))).await;
    app.stripe.healthy(false, &[(100, "usd")]).await;
    let (owner, site, token) = app.owner_with_site();
    let webhook = format!("{}/webhook", integration(&site));
    let put = |secret: Value| json!({ "stripeWebhookSecret": secret }).to_string();

    let r = app.send(Method::Put, &webhook, Some(&token), Some(&put(json!(WHSEC)))).await;
    assert_error(&r, 404, "Stripe is not connected");
    assert_eq!(app.connect(&site, &token, TEST_KEY).await.status.code, 200);
    for (body, message) in [
        (put(json!("rk_live_51NxQp2Cg7Yq1s8dZt4K9mLbA0vWe3")), INVALID_SECRET),
        (put(json!("whsec_short")), INVALID_SECRET),
        (put(json!(null)), "stripeWebhookSecret is required"),
        ("{}".to_owned(), "stripeWebhookSecret is required"),
        (put(json!(42)), "stripeWebhookSecret must be a string, not a number"),
    ] {
        assert_error(&app.send(Method::Put, &webhook, Some(&token), Some(&body)).await, 400, message);
    }
    let viewer = app.user("viewer@example.com");
    app.member(&site, &viewer, Role::Viewer);
    let viewer_token = app.full_token(&viewer);
    assert_eq!(app.send(Method::Put, &webhook, Some(&viewer_token), Some(&put(json!(WHSEC)))).await.status.code, 403);
    let reader = app.token(&owner, &["settings:read"], &[]);
    assert_eq!(app.send(Method::Delete, &webhook, Some(&reader), None).await.status.code, 403);

    let r = app.send(Method::Put, &webhook, Some(&token), Some(&put(json!(format!(" {WHSEC}\n"))))).await;
    assert_eq!(r.body, json!({"status": "success", "data": [{"message": "Stripe webhook signing secret saved"}]}));
    let status = app.get(&integration(&site), &token).await;
    let shown = &status.body["data"][0]["webhook"];
    assert_eq!(shown["configured"], true);
    assert_eq!(shown["url"], format!("https://revlink.example.com/api/v1/webhooks/stripe/{site}"));
    assert!(shown["setAt"].is_string() && shown["lastEventAt"].is_null());
    let everything = app.get(&format!("/api/v1/admin/websites/{site}/integrations"), &token).await;
    for answer in [&status.body, &everything.body] {
        assert!(!answer.to_string().contains("whsec_"), "never shown: {answer}");
    }
    let stored: Vec<u8> = app
        .state()
        .db
        .with_conn(|c| Ok(c.query_row("SELECT ciphertext FROM stripe_webhook_secrets", [], |r| r.get(0))?))
        .unwrap();
    assert!(!stored.windows(12).any(|w| w == &WHSEC.as_bytes()[..12]), "sealed");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%whsec%' OR action LIKE '%whsec%'"), 0);

    // Replaced: the old secret no longer verifies.
    app.send(Method::Put, &webhook, Some(&token), Some(&put(json!(OTHER_WHSEC)))).await;
    let payload = event("evt_after_replace", "customer.created", &json!({"id": "cus_1", "object": "customer"}));
    assert_error(&deliver(&app, &url(&site), Some(&signed(WHSEC, &payload)), &payload).await, 400, MISMATCH);
    assert_eq!(deliver(&app, &url(&site), Some(&signed(OTHER_WHSEC, &payload)), &payload).await.status.code, 200);

    let r = app.send(Method::Delete, &webhook, Some(&token), None).await;
    assert_eq!(r.body, json!({"status": "success", "data": [{"message": "Stripe webhook signing secret removed"}]}));
    assert_error(
        &app.send(Method::Delete, &webhook, Some(&token), None).await,
        404,
        "No Stripe webhook signing secret is set",
    );
    let payload = event("evt_after_remove", "customer.created", &json!({"id": "cus_1", "object": "customer"}));
    assert_error(
        &deliver(&app, &url(&site), Some(&signed(OTHER_WHSEC, &payload)), &payload).await,
        400,
        NOT_CONFIGURED,
    );
    assert_eq!(app.get(&integration(&site), &token).await.body["data"][0]["webhook"]["configured"], false);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_webhook_secrets"), 0);
}

#[rocket::async_test]
async fn the_connect_body_may_carry_the_secret_and_keeps_the_contract() {
    let app = TestApp::new().await;
    app.stripe.healthy(false, &[(100, "usd")]).await;
    let (_, site, token) = app.owner_with_site();
    let connect = |body: Value| {
        let (app, site, token) = (&app, &site, &token);
        async move { app.send(Method::Post, &integration(site), Some(token), Some(&body.to_string())).await }
    };
    let calls = || async { app.stripe.server.received_requests().await.unwrap_or_default().len() };

    // §4's order holds: the key's own checks answer first, then the secret's, before Stripe is asked anything.
    assert_error(&connect(json!({"stripeWebhookSecret": WHSEC})).await, 400, "stripeRak is required");
    let r = connect(json!({"stripeRak": "pk_live_123", "stripeWebhookSecret": "nope"})).await;
    assert_error(&r, 400, "Invalid key format (must start with rk_)");
    for secret in [json!("sk_live_notawebhooksecret"), json!(12), json!(["whsec_abcdefghijkl"])] {
        let r = connect(json!({"stripeRak": TEST_KEY, "stripeWebhookSecret": secret})).await;
        assert_error(&r, 400, INVALID_SECRET);
    }
    assert_eq!(calls().await, 0, "Stripe was not asked");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_connections"), 0, "nothing stored");

    let r = connect(json!({"stripeRak": TEST_KEY, "stripeWebhookSecret": WHSEC})).await;
    let connected = &r.body["data"][0];
    assert_eq!(
        (&connected["message"], &connected["currency"]),
        (&json!("Stripe connected successfully"), &json!("USD")),
        "{}",
        r.body
    );
    let webhook =
        || async { app.get(&integration(&site), &token).await.body["data"][0]["webhook"]["configured"].clone() };
    assert_eq!(webhook().await, true);
    // A new key without the field (or with it empty) keeps the secret.
    for body in [json!({"stripeRak": TEST_KEY}), json!({"stripeRak": TEST_KEY, "stripeWebhookSecret": ""})] {
        assert_eq!(connect(body).await.status.code, 200);
        assert_eq!(webhook().await, true);
    }
    // Disconnecting removes it with the key.
    assert_eq!(app.send(Method::Delete, &integration(&site), Some(&token), None).await.status.code, 200);
    assert_eq!(webhook().await, false);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_webhook_secrets"), 0);
}

#[rocket::async_test]
async fn the_routes_are_documented() {
    let app = TestApp::new().await;
    let doc = app.send(Method::Get, "/api/v1/openapi.json", None, None).await.body;
    let delivery = &doc["paths"]["/api/v1/webhooks/stripe/{website_id}"]["post"];
    assert!(delivery.get("security").is_none(), "the signature is the credential");
    for status in ["200", "400", "413", "429", "500", "503"] {
        assert!(delivery["responses"].get(status).is_some(), "lacks {status}");
    }
    let headers: Vec<&Value> =
        delivery["parameters"].as_array().unwrap().iter().filter(|p| p["in"] == "header").collect();
    assert_eq!(headers[0]["name"], "Stripe-Signature");
    let webhook = &doc["paths"]["/api/v1/admin/websites/{website_id}/integrations/stripe/webhook"];
    assert!(webhook["put"]["requestBody"]["required"].as_bool().unwrap());
    assert!(webhook["delete"].is_object());
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["StripeStatus"]["properties"]["webhook"]["$ref"], "#/components/schemas/WebhookStatus");
    assert!(schemas["WebhookStatus"]["properties"]["lastEventAt"].is_object());
    assert!(schemas["ConnectStripe"]["properties"]["stripeWebhookSecret"]["pattern"].is_string());
}
