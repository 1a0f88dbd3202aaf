//! Connect Stripe (contract §4): every step's outcome, and what is (not) stored.

use std::time::Duration;

use rocket::http::Method;
use secrecy::ExposeSecret;

use crate::helpers::{LIVE_KEY, TEST_KEY, TestApp, assert_error};
use crate::stripe_fake::{self, BALANCE, StripeFake};
use revlink::crypto::Sealed;
use revlink::domain::ObjectId;

const REQUIRED: &str = "stripeRak is required";
const FORMAT: &str = "Invalid key format (must start with rk_)";
const REJECTED: &str = "Stripe rejected this key: it is invalid, expired or revoked";
const TRY_AGAIN: &str = "Could not verify the key with Stripe; try again";

fn stripe_path(site: &ObjectId) -> String {
    format!("/api/v1/admin/websites/{site}/integrations/stripe")
}

fn stored(app: &TestApp, site: &ObjectId) -> Option<(Sealed, String)> {
    app.state()
        .db
        .with_conn(|c| {
            Ok(c.query_row(
                "SELECT nonce, ciphertext, display_key FROM stripe_connections WHERE website_id = ?1",
                [site],
                |r| Ok((Sealed { nonce: r.get(0)?, ciphertext: r.get(1)? }, r.get(2)?)),
            )
            .ok())
        })
        .unwrap()
}

#[rocket::async_test]
async fn connects_a_live_key_and_stores_it_encrypted() {
    // Arrange
    let app = TestApp::with(|f| f.merge(("environment", "production"))).await;
    let (_, site, token) = app.owner_with_site();
    app.stripe.healthy(true, &[(1200, "usd"), (98_000, "eur"), (0, "gbp")]).await;

    // Act
    let reply = app.connect(&site, &token, &format!("  {LIVE_KEY}\n")).await;

    // Assert
    assert_eq!(reply.status.code, 200, "{}", reply.body);
    assert_eq!(
        reply.body,
        serde_json::json!({"status":"success","data":[{"message":"Stripe connected successfully","currency":"EUR",
            "import":"started","missingOptionalPermissions":[]}]}),
        "the contract's message and currency, and (additive) what happened to the import and no optional permission missing"
    );
    let (sealed, display) = stored(&app, &site).expect("stored");
    assert_eq!(display, "rk_live_...vWe3");
    assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains("rk_live"));
    let opened = app.state().stripe_keys.open(&site, &sealed).unwrap();
    assert_eq!(opened.expose_secret(), LIVE_KEY, "surrounding whitespace is trimmed before storing");
    let (calls, bearer) = app.stripe.calls_with_key(LIVE_KEY).await;
    assert_eq!(
        (calls, bearer),
        (8, true),
        "balance, a probe of each of the four lists the import reads and of payment intents (expanded on charges), and \
         of the two lists the optional permissions open, with the key"
    );

    let status = app.get(&format!("/api/v1/admin/websites/{site}/integrations"), &token).await;
    let data = &status.body["data"][0];
    assert_eq!(data["stripe"]["connected"], true);
    assert_eq!(data["stripe"]["livemode"], true);
    assert_eq!(data["stripe"]["displayKey"], "rk_live_...vWe3");
    assert_eq!(data["stripe"]["connectedBy"], "owner@example.com");
    assert_eq!(data["currency"], "EUR");
    assert_eq!(data["paddle"], serde_json::json!({"connected": false, "keyExpiresAt": null}));
    let website = app.get(&format!("/api/v1/admin/websites/{site}"), &token).await;
    assert_eq!(website.body["data"][0]["currency"], "EUR", "the website takes the account currency");
}

#[rocket::async_test]
async fn body_must_carry_a_string_stripe_rak() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    // The contract fixes the message; `detail` (additive) says what exactly was wrong.
    let cases = [
        ("{}", "missing field `stripeRak`"),
        ("[]", "must be a JSON object"),
        ("\"rk_live_x\"", "must be a JSON object"),
        ("{\"stripeRak\":5}", "stripeRak: invalid type: integer `5`, expected a string"),
        ("{\"stripeRak\":null}", "stripeRak: invalid type: null, expected a string"),
        ("{bad json", "Request body is not valid JSON: key must be a string at line 1 column 2"),
        ("{\"stripeRak\": rk_live_x}", "not valid JSON: expected value at line 1 column 15"),
        ("  ", "Request body is empty"),
    ];
    for (body, detail) in cases {
        let reply = app.send(Method::Post, &stripe_path(&site), Some(&token), Some(body)).await;
        assert_error(&reply, 400, REQUIRED);
        let said = reply.body["error"]["detail"].as_str().unwrap_or_default();
        assert!(said.contains(detail), "{body}: {said}");
    }
    assert_eq!(app.stripe.calls_with_key(LIVE_KEY).await.0, 0);
}

#[rocket::async_test]
async fn malformed_and_non_restricted_keys_are_refused_before_stripe() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let too_long = format!("rk_live_{}", "a".repeat(248));
    for key in [
        "sk_live_51NxQp2Cg7Yq1s8dZt4K9mLb",
        "pk_test_51NxQp2Cg7Yq1s8dZt4K9mLb",
        "rk_live_short",
        "rk_live_with-dash-0123",
        "rk_other_0123456789",
        &too_long,
    ] {
        let reply = app.connect(&site, &token, key).await;
        assert_error(&reply, 400, FORMAT);
    }
    assert_eq!(app.stripe.calls_with_key(LIVE_KEY).await.0, 0);
}

#[rocket::async_test]
async fn test_keys_are_refused_in_production_only() {
    let prod = TestApp::with(|f| f.merge(("environment", "production"))).await;
    let (_, site, token) = prod.owner_with_site();
    let reply = prod.connect(&site, &token, TEST_KEY).await;
    assert_error(&reply, 400, "Test keys are not allowed in production; use a live restricted key (rk_live_...)");
    assert_eq!(prod.stripe.calls_with_key(TEST_KEY).await.0, 0);

    let dev = TestApp::new().await;
    let (_, site, token) = dev.owner_with_site();
    dev.stripe.healthy(false, &[(500, "usd")]).await;
    let reply = dev.connect(&site, &token, TEST_KEY).await;
    assert_eq!(reply.status.code, 200, "{}", reply.body);
    assert_eq!(reply.body["data"][0]["currency"], "USD");
}

async fn connect_against(setup: impl AsyncFnOnce(&StripeFake)) -> (TestApp, ObjectId, crate::helpers::Reply) {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    setup(&app.stripe).await;
    let reply = app.connect(&site, &token, LIVE_KEY).await;
    (app, site, reply)
}

#[rocket::async_test]
async fn invalid_and_expired_keys_are_rejected() {
    for response in [stripe_fake::invalid_key(), stripe_fake::expired_key()] {
        let (app, site, reply) = connect_against(async |s| {
            s.answer(BALANCE, response.clone()).await;
            for list in stripe_fake::LISTS {
                s.answer(list, response.clone()).await;
            }
        })
        .await;
        assert_error(&reply, 400, REJECTED);
        assert!(stored(&app, &site).is_none());
    }
}

#[rocket::async_test]
async fn every_missing_permission_is_named_at_once() {
    let (app, site, reply) = connect_against(async |s| {
        s.answer("/v1/charges", stripe_fake::missing_permission("rak_charge_read")).await;
        s.answer("/v1/checkout/sessions", stripe_fake::missing_permission("rak_checkout_session_read")).await;
        s.healthy(true, &[(1, "usd")]).await;
    })
    .await;
    assert_error(
        &reply,
        400,
        "This key is missing Stripe permissions: rak_charge_read, rak_checkout_session_read. Grant Read access to them and try again.",
    );
    assert!(stored(&app, &site).is_none());
}

#[rocket::async_test]
async fn a_missing_balance_permission_is_named_too() {
    let (_, _, reply) = connect_against(async |s| {
        s.answer(BALANCE, stripe_fake::missing_permission("rak_balance_read")).await;
        s.answer("/v1/invoices", stripe_fake::missing_permission("rak_invoice_read")).await;
        s.healthy(true, &[(1, "usd")]).await;
    })
    .await;
    assert_error(
        &reply,
        400,
        "This key is missing Stripe permissions: rak_balance_read, rak_invoice_read. Grant Read access to them and try again.",
    );
}

#[rocket::async_test]
async fn livemode_must_match_the_key() {
    let (_, _, reply) = connect_against(async |s| s.healthy(false, &[(1, "usd")]).await).await;
    assert_error(&reply, 400, "This rk_live_ key belongs to a test-mode Stripe account; use a key from live mode");
}

#[rocket::async_test]
async fn stripe_rate_limit_is_a_503_with_retry_after() {
    let (app, site, reply) = connect_against(async |s| {
        s.answer("/v1/payment_intents", stripe_fake::rate_limited()).await;
        s.healthy(true, &[(1, "usd")]).await;
    })
    .await;
    assert_eq!(reply.status.code, 503);
    assert_eq!(reply.body["error"]["code"], 503);
    let retry: u64 = reply.header("Retry-After").expect("Retry-After").parse().unwrap();
    assert!(retry >= 1);
    assert!(stored(&app, &site).is_none());
}

#[rocket::async_test]
async fn stripe_server_error_is_a_502() {
    let (app, site, reply) = connect_against(async |s| {
        s.answer(BALANCE, stripe_fake::server_error()).await;
        s.healthy(true, &[(1, "usd")]).await;
    })
    .await;
    assert_error(&reply, 502, TRY_AGAIN);
    assert!(stored(&app, &site).is_none());
}

#[rocket::async_test]
async fn a_non_json_answer_is_a_502() {
    let (_, _, reply) = connect_against(async |s| {
        s.answer(BALANCE, wiremock::ResponseTemplate::new(200).set_body_string("<html>maintenance</html>")).await;
        s.healthy(true, &[(1, "usd")]).await;
    })
    .await;
    assert_error(&reply, 502, TRY_AGAIN);
}

#[rocket::async_test]
async fn a_hang_past_the_timeout_is_a_504() {
    let (app, site, reply) = connect_against(async |s| {
        s.hang(Duration::from_secs(3)).await;
        s.healthy(true, &[(1, "usd")]).await;
    })
    .await;
    assert_error(&reply, 504, TRY_AGAIN);
    assert!(stored(&app, &site).is_none());
}

#[rocket::async_test]
async fn a_refused_connection_is_a_502() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::with(|f| f.merge(("stripe_api_base", format!("http://127.0.0.1:{port}")))).await;
    let (_, site, token) = app.owner_with_site();
    let reply = app.connect(&site, &token, LIVE_KEY).await;
    assert_error(&reply, 502, TRY_AGAIN);
}

#[rocket::async_test]
async fn a_failed_reconnect_leaves_the_earlier_connection_as_it_was() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    app.stripe.healthy(true, &[(100, "usd")]).await;
    assert_eq!(app.connect(&site, &token, LIVE_KEY).await.status.code, 200);
    let before = stored(&app, &site).unwrap();

    app.stripe.reset().await;
    app.stripe.answer(BALANCE, stripe_fake::invalid_key()).await;
    app.stripe.healthy(true, &[(100, "usd")]).await;
    let other = "rk_live_51ZZZZZZZZZZZZZZZZZZZZZZZZZZZZ";
    assert_error(&app.connect(&site, &token, other).await, 400, REJECTED);

    assert_eq!(stored(&app, &site).unwrap(), before);
}

#[rocket::async_test]
async fn reconnect_replaces_and_disconnect_deletes() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    app.stripe.healthy(true, &[(100, "usd")]).await;
    assert_eq!(app.connect(&site, &token, LIVE_KEY).await.status.code, 200);
    let second = "rk_live_51SecondKeyAbcdefghijklmnop";
    assert_eq!(app.connect(&site, &token, second).await.status.code, 200);
    assert_eq!(stored(&app, &site).unwrap().1, "rk_live_...mnop");

    let reply = app.send(Method::Delete, &stripe_path(&site), Some(&token), None).await;
    assert_eq!(
        reply.body,
        serde_json::json!({"status":"success","data":[{"message":"Stripe disconnected successfully"}]})
    );
    assert!(stored(&app, &site).is_none());
    let again = app.send(Method::Delete, &stripe_path(&site), Some(&token), None).await;
    assert_error(&again, 404, "Stripe is not connected");
    let status = app.get(&format!("/api/v1/admin/websites/{site}/integrations"), &token).await;
    let stripe = &status.body["data"][0]["stripe"];
    assert_eq!((&stripe["connected"], stripe.get("displayKey")), (&serde_json::json!(false), None));
    assert_eq!(
        (&stripe["sync"]["state"], &stripe["sync"]["imported"]),
        (&serde_json::json!("idle"), &serde_json::json!(0))
    );

    let actions: Vec<String> = app
        .state()
        .db
        .with_conn(|c| {
            let mut s =
                c.prepare("SELECT action FROM audit_log WHERE website_id = ?1 AND action LIKE 'stripe.%' ORDER BY id")?;
            let rows = s.query_map([&site], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
            Ok(rows)
        })
        .unwrap();
    assert_eq!(actions, ["stripe.connect", "stripe.reconnect", "stripe.disconnect"]);
}

#[rocket::async_test]
async fn a_403_on_each_endpoint_names_its_permission() {
    let cases = [
        (BALANCE, "rak_balance_read"),
        ("/v1/charges", "rak_charge_read"),
        ("/v1/payment_intents", "rak_payment_intent_read"),
        ("/v1/checkout/sessions", "rak_checkout_session_read"),
        ("/v1/invoices", "rak_invoice_read"),
    ];
    for (endpoint, permission) in cases {
        let (app, site, reply) = connect_against(async |s| {
            s.answer(endpoint, stripe_fake::missing_permission(permission)).await;
            s.healthy(true, &[(1, "usd")]).await;
        })
        .await;
        let expected =
            format!("This key is missing Stripe permissions: {permission}. Grant Read access to them and try again.");
        assert_error(&reply, 400, &expected);
        assert!(stored(&app, &site).is_none());
    }
}

#[rocket::async_test]
async fn a_403_without_a_permission_name_falls_back_to_the_endpoints_permission() {
    let (_, _, reply) = connect_against(async |s| {
        let older = wiremock::ResponseTemplate::new(403).set_body_json(serde_json::json!({"error": {
            "message": "The provided key 'rk_live_***' does not have the required permissions for this endpoint on account 'acct_1'. This is a restricted API key, but the required permissions are not available for use by restricted keys.",
            "type": "invalid_request_error"
        }}));
        s.answer("/v1/payment_intents", older).await;
        s.healthy(true, &[(1, "usd")]).await;
    })
    .await;
    assert_error(
        &reply,
        400,
        "This key is missing Stripe permissions: rak_payment_intent_read. Grant Read access to them and try again.",
    );
}
