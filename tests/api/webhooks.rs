//! Stripe webhooks: deliveries signed as Stripe signs them (HMAC-SHA256 of `{t}.{body}`), events in Stripe's shape
//! for API version 2026-02-25.clover, the charge they name read again from an in-process Stripe (wiremock on
//! 127.0.0.1), and every way a delivery is refused with nothing processed. Also the signing secret's life: set with
//! the key or alone, replaced, removed, never shown.

use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use rocket::http::{ContentType, Header, Method};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use revlink::domain::ObjectId;

use crate::helpers::{Reply, TEST_KEY, TestApp, assert_error};
use crate::stripe_account::{Account, NewCharge, unix_days_ago};

pub(crate) const WHSEC: &str = "whsec_5fG8hJ2kL9mN3pQ7rS1tU4vW6xY0zA2b";
pub(crate) const OTHER_WHSEC: &str = "whsec_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp";
pub(crate) const INVALID_SECRET: &str = "Invalid webhook signing secret (must start with whsec_ followed by 8 to 250 letters \
                              or digits); copy it from the endpoint's page in Stripe";
pub(crate) const NOT_CONFIGURED: &str = "This website accepts no Stripe webhooks: no signing secret is set. Set the endpoint's \
                              signing secret (whsec_...) on the website's Integrations page";
pub(crate) const MISMATCH: &str = "No v1 signature in the Stripe-Signature header matches this payload signed with the website's webhook signing secret";

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn sign(secret: &str, t: i64, payload: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{payload}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `Stripe-Signature` as Stripe sends it (with a test-mode `v0` it makes too).
pub(crate) fn signed(secret: &str, payload: &str) -> String {
    let t = now();
    format!("t={t},v1={},v0={}", sign(secret, t, payload), "0f".repeat(32))
}

/// An event exactly as Stripe renders it for the pinned API version.
pub(crate) fn event(id: &str, kind: &str, object: &Value) -> String {
    json!({
        "id": id, "object": "event", "api_version": "2026-02-25.clover", "created": now(),
        "data": {"object": object}, "livemode": false, "pending_webhooks": 1,
        "request": {"id": "req_8bYv3hLqZk1xQe", "idempotency_key": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"},
        "type": kind
    })
    .to_string()
}

pub(crate) fn url(site: &ObjectId) -> String {
    format!("/api/v1/webhooks/stripe/{site}")
}

/// Posts `payload` as Stripe does: raw JSON, its signature header, Stripe's user agent; no bearer token.
pub(crate) async fn deliver(app: &TestApp, to: &str, signature: Option<&str>, payload: &str) -> Reply {
    let mut req = app.client.post(to.to_owned()).header(ContentType::new("application", "json")).body(payload);
    req.add_header(Header::new("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"));
    if let Some(signature) = signature {
        req.add_header(Header::new("Stripe-Signature", signature.to_owned()));
    }
    Reply::read(req.dispatch().await).await
}

pub(crate) fn assert_received(reply: &Reply, message: &str) {
    assert_eq!(reply.status.code, 200, "{}", reply.body);
    assert_eq!(reply.body, json!({"status": "success", "data": [{"message": message}]}));
}

/// An app whose website is connected to `account` (no automatic import: only webhooks read) with `WHSEC` set.
async fn connected(account: &Account) -> (TestApp, ObjectId, String) {
    let app =
        TestApp::with(|f| f.merge(("stripe_test_requests_per_second", 100_000)).merge(("stripe_retry_base_ms", 5)))
            .await;
    account.mount(&app.stripe.server).await;
    let (_, site, token) = app.owner_with_site();
    let body = json!({"stripeRak": TEST_KEY, "stripeWebhookSecret": WHSEC}).to_string();
    let r = app.send(Method::Post, &integration(&site), Some(&token), Some(&body)).await;
    let connected = &r.body["data"][0];
    assert_eq!(
        (&connected["message"], &connected["currency"]),
        (&json!("Stripe connected successfully"), &json!("USD")),
        "{}",
        r.body
    );
    (app, site, token)
}

pub(crate) fn integration(site: &ObjectId) -> String {
    format!("/api/v1/admin/websites/{site}/integrations/stripe")
}

#[derive(Debug, PartialEq, Eq)]
struct Paid {
    amount: i64,
    refunded: i64,
    disputed: bool,
    renewal: bool,
    visitor: Option<String>,
}

fn payment(app: &TestApp, site: &ObjectId, charge: &str) -> Option<Paid> {
    app.state()
        .db
        .with_conn(|c| {
            revlink::db::optional(c.query_row(
                "SELECT amount, refunded_amount, disputed, renewal, visitor_id FROM payments
                 WHERE website_id = ?1 AND transaction_id = ?2",
                rusqlite::params![site, charge],
                |r| {
                    Ok(Paid {
                        amount: r.get(0)?,
                        refunded: r.get(1)?,
                        disputed: r.get(2)?,
                        renewal: r.get(3)?,
                        visitor: r.get(4)?,
                    })
                },
            ))
        })
        .unwrap()
}

/// Polls the database until the charge's payment satisfies `done` (at most 5 s).
async fn wait_for_payment(app: &TestApp, site: &ObjectId, charge: &str, done: impl Fn(&Paid) -> bool) -> Paid {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(p) = payment(app, site, charge).filter(|p| done(p)) {
            return p;
        }
        assert!(Instant::now() < deadline, "the payment did not show: {:?}", payment(app, site, charge));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn reads_of(app: &TestApp, charge: &str) -> usize {
    let requests = app.stripe.server.received_requests().await.unwrap_or_default();
    requests.iter().filter(|r| r.url.path() == format!("/v1/charges/{charge}")).count()
}

pub(crate) fn count(app: &TestApp, sql: &str) -> i64 {
    app.state().db.with_conn(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).unwrap()
}

#[rocket::async_test]
async fn a_signed_charge_event_shows_the_payment_read_from_stripe_within_seconds() {
    let account = Account::default();
    let (charge, intent) = account.with(|d| {
        let (ch, pi) = d.charge(NewCharge { created: unix_days_ago(0), ..Default::default() });
        d.session(Some(&pi), None, json!({"datafast_visitor_id": "v-checkout"}), unix_days_ago(0));
        // Stripe answers slowly: the webhook must not wait for it.
        d.delay = Duration::from_millis(800);
        (ch, pi)
    });
    let (app, site, _) = connected(&account).await;
    // The event's own numbers and metadata are never believed: only its charge id is used.
    let mut forged = account.with(|d| d.charge_mut(&charge).clone());
    forged["amount"] = json!(999_999);
    forged["metadata"] = json!({"datafast_visitor_id": "forged"});
    let payload = event("evt_3PgafuB7WZ01zgkW1nX2aB3c", "charge.succeeded", &forged);

    let started = Instant::now();
    let reply = deliver(&app, &url(&site), Some(&signed(WHSEC, &payload)), &payload).await;
    assert_received(&reply, "Event received");
    assert!(started.elapsed() < Duration::from_millis(500), "answered before Stripe is read: {:?}", started.elapsed());
    assert!(reply.header("X-RateLimit-Limit").is_some(), "counted like the other public endpoints");

    let paid = wait_for_payment(&app, &site, &charge, |_| true).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        paid,
        Paid { amount: 2900, refunded: 0, disputed: false, renewal: false, visitor: Some("v-checkout".into()) },
        "the charge as Stripe's API has it, attributed through its checkout session ({intent})"
    );
    let requests = app.stripe.server.received_requests().await.unwrap_or_default();
    let read = requests.iter().find(|r| r.url.path() == format!("/v1/charges/{charge}")).unwrap();
    let expand: Vec<String> = read.url.query_pairs().filter(|(k, _)| k == "expand[]").map(|(_, v)| v.into()).collect();
    assert_eq!(expand, ["balance_transaction", "payment_intent"], "read like the import reads a charge");
}

#[rocket::async_test]
async fn refused_deliveries_answer_400_and_process_nothing() {
    let account = Account::default();
    let charge = account.with(|d| d.charge(NewCharge { created: unix_days_ago(0), ..Default::default() }).0);
    let (app, site, token) = connected(&account).await;
    let object = account.with(|d| d.charge_mut(&charge).clone());
    let payload = event("evt_3PgafuB7WZ01zgkW2nX2aB3c", "charge.succeeded", &object);
    let t = now();
    let malformed = "Malformed Stripe-Signature header: expected t=<unix time>,v1=<hex signature>[,v1=…]";
    let stale = "The Stripe-Signature timestamp is more than 300 seconds away from this server's time; check the \
                 server's clock";
    let cases: Vec<(Option<String>, String, &str)> = vec![
        (None, payload.clone(), "Missing Stripe-Signature header"),
        (Some(signed(OTHER_WHSEC, &payload)), payload.clone(), MISMATCH),
        (Some(signed(WHSEC, &payload)), payload.replace("2900", "2901"), MISMATCH),
        (Some(format!("t={},v1={}", t - 301, sign(WHSEC, t - 301, &payload))), payload.clone(), stale),
        (Some(format!("t={},v1={}", t + 301, sign(WHSEC, t + 301, &payload))), payload.clone(), stale),
        (Some(format!("v1={}", sign(WHSEC, t, &payload))), payload.clone(), malformed),
        (Some(format!("t={t},v0={}", sign(WHSEC, t, &payload))), payload.clone(), malformed),
        (Some(format!("t=yesterday,v1={}", sign(WHSEC, t, &payload))), payload.clone(), malformed),
        (Some("garbage".into()), payload.clone(), malformed),
        (Some(format!("t={t},v1=")), payload.clone(), MISMATCH),
    ];
    for (signature, body, message) in cases {
        let reply = deliver(&app, &url(&site), signature.as_deref(), &body).await;
        assert_error(&reply, 400, message);
        assert!(!reply.body.to_string().contains(WHSEC), "never the secret");
    }
    // Signed, but not an event.
    let not_event = r#"{"id":"ch_1","object":"charge"}"#;
    let reply = deliver(&app, &url(&site), Some(&signed(WHSEC, not_event)), not_event).await;
    assert_eq!(reply.status.code, 400, "{}", reply.body);
    assert!(reply.message().starts_with("The payload is not a Stripe event"), "{}", reply.body);

    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(reads_of(&app, &charge).await, 0, "Stripe was asked nothing");
    assert!(payment(&app, &site, &charge).is_none());
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_webhook_events"), 0, "no event recorded");
    let status = app.get(&integration(&site), &token).await;
    assert_eq!(status.body["data"][0]["webhook"]["lastEventAt"], Value::Null);
}

#[rocket::async_test]
async fn a_replayed_event_is_processed_once() {
    let account = Account::default();
    let charge = account.with(|d| d.charge(NewCharge { created: unix_days_ago(0), ..Default::default() }).0);
    let (app, site, token) = connected(&account).await;
    let object = account.with(|d| d.charge_mut(&charge).clone());
    let payload = event("evt_3PgafuB7WZ01zgkW3nX2aB3c", "charge.succeeded", &object);
    assert_received(&deliver(&app, &url(&site), Some(&signed(WHSEC, &payload)), &payload).await, "Event received");
    wait_for_payment(&app, &site, &charge, |_| true).await;

    // Stripe retries a delivery with a fresh signature; the same bytes replayed by anyone else are alike.
    for _ in 0..3 {
        let again = deliver(&app, &url(&site), Some(&signed(WHSEC, &payload)), &payload).await;
        assert_received(&again, "Event already received");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reads_of(&app, &charge).await, 1, "read once");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_webhook_events"), 1);
    let webhook = app.get(&integration(&site), &token).await.body["data"][0]["webhook"].clone();
    assert!(webhook["lastEventAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{webhook}");
}

#[rocket::async_test]
async fn during_a_secret_rotation_either_valid_v1_signature_is_accepted() {
    let account = Account::default();
    let (app, site, token) = connected(&account).await;
    // The merchant rolled the secret in Stripe and pasted the new one; Stripe signs with both for a while.
    let put = json!({"stripeWebhookSecret": OTHER_WHSEC}).to_string();
    let r = app.send(Method::Put, &format!("{}/webhook", integration(&site)), Some(&token), Some(&put)).await;
    assert_eq!(r.body, json!({"status": "success", "data": [{"message": "Stripe webhook signing secret saved"}]}));
    let customer = json!({"id": "cus_NffrFeUfNV2Hib", "object": "customer"});
    for (i, order) in [[WHSEC, OTHER_WHSEC], [OTHER_WHSEC, WHSEC]].iter().enumerate() {
        let payload = event(&format!("evt_rotation{i}"), "customer.updated", &customer);
        let t = now();
        let header = format!("t={t},v1={},v1={}", sign(order[0], t, &payload), sign(order[1], t, &payload));
        assert_received(
            &deliver(&app, &url(&site), Some(&header), &payload).await,
            "Event type not used by revlink; ignored",
        );
    }
    let payload = event("evt_rotation_old_only", "customer.updated", &customer);
    assert_error(&deliver(&app, &url(&site), Some(&signed(WHSEC, &payload)), &payload).await, 400, MISMATCH);
}

#[rocket::async_test]
async fn refunds_and_disputes_are_read_again_from_the_charge() {
    let account = Account::default();
    let charge = account.with(|d| d.charge(NewCharge { created: unix_days_ago(3), ..Default::default() }).0);
    let (app, site, _) = connected(&account).await;
    let object = account.with(|d| d.charge_mut(&charge).clone());
    let payload = event("evt_first", "charge.succeeded", &object);
    deliver(&app, &url(&site), Some(&signed(WHSEC, &payload)), &payload).await;
    wait_for_payment(&app, &site, &charge, |_| true).await;

    account.with(|d| d.refund(&charge, 900));
    let refund = account.with(|d| d.refunds.last().unwrap().clone());
    let payload = event("evt_refund", "charge.refund.updated", &refund);
    assert_received(&deliver(&app, &url(&site), Some(&signed(WHSEC, &payload)), &payload).await, "Event received");
    wait_for_payment(&app, &site, &charge, |p| p.refunded == 900).await;

    account.with(|d| d.charge_mut(&charge)["disputed"] = json!(true));
    let dispute = json!({"id": "du_1PgaxNB7WZ01zgkWd1sp", "object": "dispute", "amount": 2900, "charge": charge,
        "currency": "usd", "created": now(), "livemode": false, "payment_intent": object["payment_intent"],
        "reason": "fraudulent", "status": "needs_response", "is_charge_refundable": false});
    let payload = event("evt_dispute", "charge.dispute.created", &dispute);
    assert_received(&deliver(&app, &url(&site), Some(&signed(WHSEC, &payload)), &payload).await, "Event received");
    let paid = wait_for_payment(&app, &site, &charge, |p| p.disputed).await;
    assert_eq!((paid.amount, paid.refunded), (2900, 900));
}

#[rocket::async_test]
async fn a_new_subscription_payment_is_attributed_and_a_renewal_told_apart_at_once() {
    let account = Account::default();
    let (first, first_pi, renewal, renewal_pi) = account.with(|d| {
        let (ch, pi) = d.charge(NewCharge { created: unix_days_ago(31), ..Default::default() });
        let (ch2, pi2) = d.charge(NewCharge { created: unix_days_ago(0), ..Default::default() });
        d.session(None, Some("in_1SubCreate"), json!({"datafast_visitor_id": "v-sub"}), unix_days_ago(31));
        (ch, pi, ch2, pi2)
    });
    let (app, site, _) = connected(&account).await;
    // Since Basil a payment intent names no invoice: the invoice payments list does.
    for (pi, invoice, reason) in
        [(&first_pi, "in_1SubCreate", "subscription_create"), (&renewal_pi, "in_1SubCycle", "subscription_cycle")]
    {
        let body = json!({"object": "list", "url": "/v1/invoice_payments", "has_more": false, "data": [{
            "id": format!("inpay_{invoice}"), "object": "invoice_payment", "amount_paid": 2900, "amount_requested": 2900,
            "created": now(), "currency": "usd", "is_default": true, "livemode": false, "status": "paid",
            "payment": {"type": "payment_intent", "payment_intent": pi},
            "invoice": {"id": invoice, "object": "invoice", "billing_reason": reason, "created": now(),
                "parent": {"type": "subscription_details", "quote_details": null,
                    "subscription_details": {"metadata": {}, "subscription": "sub_1MowQVLkdIwHu7ixeRlqHVzs"}}}}]});
        Mock::given(method("GET"))
            .and(path("/v1/invoice_payments"))
            .and(query_param("payment[payment_intent]", pi.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .with_priority(1)
            .mount(&app.stripe.server)
            .await;
    }
    for (i, charge) in [&first, &renewal].into_iter().enumerate() {
        let object = account.with(|d| d.charge_mut(charge).clone());
        let payload = event(&format!("evt_sub{i}"), "charge.succeeded", &object);
        deliver(&app, &url(&site), Some(&signed(WHSEC, &payload)), &payload).await;
        wait_for_payment(&app, &site, charge, |_| true).await;
    }
    let first = payment(&app, &site, &first).unwrap();
    assert_eq!((first.renewal, first.visitor.as_deref()), (false, Some("v-sub")), "the checkout's visitor");
    let renewal = payment(&app, &site, &renewal).unwrap();
    assert_eq!((renewal.renewal, renewal.visitor.as_deref()), (true, Some("v-sub")), "the subscriber's visitor");
}

#[rocket::async_test]
async fn invoice_and_subscription_events_start_a_sync_and_other_types_are_ignored() {
    let account = Account::default();
    let charge = account.with(|d| d.charge(NewCharge { created: unix_days_ago(2), ..Default::default() }).0);
    let (app, site, token) = connected(&account).await;
    let ignored = event("evt_ignored", "customer.created", &json!({"id": "cus_1", "object": "customer"}));
    assert_received(
        &deliver(&app, &url(&site), Some(&signed(WHSEC, &ignored)), &ignored).await,
        "Event type not used by revlink; ignored",
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(account.calls(), 0, "nothing read for an unused type");

    let invoice = json!({"id": "in_1MtHbELkdIwHu7ixl4OzzPMv", "object": "invoice", "amount_paid": 2900,
        "billing_reason": "subscription_cycle", "status": "paid", "parent": {"type": "subscription_details",
        "subscription_details": {"metadata": {}, "subscription": "sub_1MowQVLkdIwHu7ixeRlqHVzs"}}});
    let paid = event("evt_invoice_paid", "invoice.paid", &invoice);
    assert_received(&deliver(&app, &url(&site), Some(&signed(WHSEC, &paid)), &paid).await, "Event received");
    let sync = crate::import::wait_for(&app, &site, &token, |s| s["lastSyncAt"].is_string()).await;
    assert_eq!(sync["imported"], 1, "{sync}");
    assert!(payment(&app, &site, &charge).is_some());

    let subscription = json!({"id": "sub_1MowQVLkdIwHu7ixeRlqHVzs", "object": "subscription", "status": "active"});
    let updated = event("evt_sub_updated", "customer.subscription.updated", &subscription);
    let before = account.calls();
    assert_received(&deliver(&app, &url(&site), Some(&signed(WHSEC, &updated)), &updated).await, "Event received");
    let deadline = Instant::now() + Duration::from_secs(5);
    while account.calls() == before {
        assert!(Instant::now() < deadline, "no sync started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[rocket::async_test]
async fn a_website_without_a_secret_refuses_every_delivery() {
    let account = Account::default();
    let app = TestApp::new().await;
    account.mount(&app.stripe.server).await;
    let (_, site, token) = app.owner_with_site();
    assert_eq!(app.connect(&site, &token, TEST_KEY).await.status.code, 200);
    let payload = event("evt_nosecret", "charge.succeeded", &json!({"id": "ch_1", "object": "charge"}));
    let header = signed(WHSEC, &payload);
    assert_error(&deliver(&app, &url(&site), Some(&header), &payload).await, 400, NOT_CONFIGURED);
    // Alike for an id no website has: the public endpoint does not tell which websites exist.
    let unknown = "/api/v1/webhooks/stripe/665f0b3c4d2e1a0012345678";
    assert_error(&deliver(&app, unknown, Some(&header), &payload).await, 400, NOT_CONFIGURED);
    assert_error(
        &deliver(&app, "/api/v1/webhooks/stripe/nope", Some(&header), &payload).await,
        400,
        "Invalid websiteId",
    );
    let status = app.get(&integration(&site), &token).await.body["data"][0]["webhook"].clone();
    assert_eq!(
        status,
        json!({"configured": false, "url": format!("http://127.0.0.1:8000/api/v1/webhooks/stripe/{site}"),
               "setAt": null, "lastEventAt": null})
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_webhook_events"), 0);
    let too_big = "x".repeat(70 * 1024);
    assert_eq!(deliver(&app, &url(&site), Some(&header), &too_big).await.status.code, 413);
}
