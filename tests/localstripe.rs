//! The import against a Stripe-compatible server revlink did not write: localstripe (PyPI), which
//! `.ci/run` installs and starts on 127.0.0.1:18420. The test creates charges, a payment intent,
//! refunds and metadata there through localstripe's own API, then lets revlink import them.
//!
//! By hand: `python3 -m venv /tmp/ls && /tmp/ls/bin/pip install localstripe`, then
//! `/tmp/ls/bin/python -c "from aiohttp import web; from localstripe.server import app; web.run_app(app, host='127.0.0.1', port=18420)"`
//! and `cargo test --test localstripe -- --ignored` (`LOCALSTRIPE_URL` overrides the address).
//!
//! localstripe accepts only `sk_test_` keys (so the key is stored directly, not through the connect
//! route, which takes only restricted keys), lists charges oldest first and has no checkout sessions. It ignores
//! `Stripe-Version` and answers in its own old shapes: a subscription's invoice names its charge itself
//! (`invoice.charge`), and it refuses `expand[]=data.payments` (400 "Bad expand") once it holds an invoice, which the
//! import then reads unexpanded.

use std::time::{Duration, Instant};

use serde_json::Value;

use revlink::db::stripe::NewConnection;
use revlink::db::{import, stripe, users, websites};
use revlink::domain::Actor;

const KEY: &str = "sk_test_revlinklocalstripe";

struct Localstripe {
    base: String,
    http: reqwest::Client,
}

impl Localstripe {
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish())
            .send()
            .await
            .unwrap_or_else(|e| panic!("localstripe at {} is not running: {e}", self.base));
        let status = res.status();
        let body: Value = res.json().await.expect("JSON from localstripe");
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn card(&self) -> String {
        let pm = self
            .post(
                "/v1/payment_methods",
                &[
                    ("type", "card"),
                    ("card[number]", "4242424242424242"),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2030"),
                    ("card[cvc]", "123"),
                ],
            )
            .await;
        pm["id"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
#[ignore = "needs localstripe on 127.0.0.1:18420; .ci/run starts it"]
#[allow(clippy::too_many_lines)] // one scenario against a real peer, told in order
async fn imports_charges_refunds_and_metadata_from_localstripe() {
    let base = std::env::var("LOCALSTRIPE_URL").unwrap_or_else(|_| "http://127.0.0.1:18420".into());
    let ls = Localstripe { base: base.clone(), http: reqwest::Client::new() };

    // Through localstripe's own API: a charge with visitor and session ids, one refunded in part,
    // a payment intent carrying the visitor id, and a charge without any.
    let run = format!("{}", std::process::id());
    let visitor = format!("visitor-{run}");
    let card = ls.card().await;
    let with_ids = ls
        .post(
            "/v1/charges",
            &[
                ("amount", "2900"),
                ("currency", "usd"),
                ("source", &card),
                ("metadata[datafast_visitor_id]", &visitor),
                ("metadata[datafast_session_id]", "session-1"),
            ],
        )
        .await;
    let refunded = ls.post("/v1/charges", &[("amount", "5000"), ("currency", "eur"), ("source", &card)]).await;
    ls.post("/v1/refunds", &[("charge", refunded["id"].as_str().unwrap()), ("amount", "1200")]).await;
    let card = ls.card().await;
    let intent = ls
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "4200"),
                ("currency", "usd"),
                ("payment_method", &card),
                ("confirm", "true"),
                ("metadata[datafast_visitor_id]", "visitor-from-intent"),
            ],
        )
        .await;
    let intent_charge = intent["latest_charge"]["id"].as_str().or(intent["latest_charge"].as_str()).unwrap().to_owned();

    // A subscription: localstripe makes its first invoice and charges it at once.
    let customer = ls.post("/v1/customers", &[("email", "subscriber@example.com")]).await;
    let customer = customer["id"].as_str().unwrap().to_owned();
    let card = ls.card().await;
    ls.post(&format!("/v1/payment_methods/{card}/attach"), &[("customer", &customer)]).await;
    ls.post(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", &card)]).await;
    let (product, plan) = (format!("prod_revlink{run}"), format!("plan_revlink{run}"));
    ls.post("/v1/products", &[("id", &product), ("name", "Pro"), ("type", "service")]).await;
    ls.post(
        "/v1/plans",
        &[("id", &plan), ("product", &product), ("amount", "1900"), ("currency", "usd"), ("interval", "month")],
    )
    .await;
    let subscription = ls.post("/v1/subscriptions", &[("customer", &customer), ("items[0][plan]", &plan)]).await;
    let invoice = subscription["latest_invoice"].as_str().expect("the subscription's first invoice").to_owned();

    // revlink, with the key stored as a connect would store it, imports on request.
    let dir = tempfile::tempdir().unwrap();
    let figment = revlink::config::figment()
        .merge(("data_dir", dir.path()))
        .merge(("stripe_api_base", base))
        .merge(("environment", "development"))
        .merge(("log_level", "off"))
        .merge(("auto_import", false))
        .merge(("stripe_retry_base_ms", 50));
    let rocket = revlink::build(figment).unwrap().ignite().await.unwrap();
    let state = rocket.state::<revlink::service::App>().unwrap();
    let site = state
        .db
        .with_conn(|c| {
            let owner = users::create(c, "owner@example.com", None, None)?;
            let new = revlink::domain::website::NewWebsite {
                domain: "shop.example.com".into(),
                name: None,
                timezone: "UTC".into(),
            };
            let site = websites::create(c, &owner, &new, &Actor::cli())?.website_id;
            let connection = NewConnection {
                sealed: state.stripe_keys.seal(&site, KEY),
                livemode: false,
                display_key: "sk_test_…ripe".into(),
                currency: "EUR".into(),
            };
            stripe::connect(c, &site, &connection, &Actor::cli())?;
            Ok(site)
        })
        .unwrap();
    state.importer.trigger(site.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let s = state.db.with_conn(|c| import::status(c, &site)).unwrap();
        if s.state == "error" || (s.state == "idle" && s.phase == "incremental") {
            break s;
        }
        assert!(Instant::now() < deadline, "the import did not finish: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.state, "idle", "{:?}", status.last_error);

    let row = |id: &str| {
        state
            .db
            .with_conn(|c| {
                Ok(c.query_row(
                    "SELECT amount, currency, refunded_amount, visitor_id, session_id, settled_amount, settled_currency
                     FROM payments WHERE website_id = ?1 AND transaction_id = ?2",
                    rusqlite::params![site, id],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, Option<i64>>(5)?,
                            r.get::<_, Option<String>>(6)?,
                        ))
                    },
                )?)
            })
            .unwrap_or_else(|e| panic!("{id} was not imported: {e}"))
    };
    let a = row(with_ids["id"].as_str().unwrap());
    assert_eq!((a.0, a.1.as_str(), a.2), (2900, "USD", 0));
    assert_eq!((a.3.as_deref(), a.4.as_deref()), (Some(visitor.as_str()), Some("session-1")));
    assert_eq!((a.5, a.6.as_deref()), (Some(2900), Some("USD")), "settlement from the balance transaction");
    let b = row(refunded["id"].as_str().unwrap());
    assert_eq!((b.0, b.1.as_str(), b.2, b.3), (5000, "EUR", 1200, None));
    let c = row(&intent_charge);
    assert_eq!((c.0, c.3.as_deref()), (4200, Some("visitor-from-intent")), "metadata from the payment intent");
    // The import ended without error although localstripe refuses `expand[]=data.payments` now that it holds an
    // invoice: the invoices were read unexpanded. The subscription's charge, named on its invoice, is a payment.
    let invoice: Value = ls
        .http
        .get(format!("{}/v1/invoices/{invoice}", ls.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let invoiced = invoice["charge"]["id"].as_str().or(invoice["charge"].as_str()).expect("a paid invoice").to_owned();
    let d = row(&invoiced);
    assert_eq!((d.0, d.1.as_str()), (1900, "USD"), "the subscription's charge");
    assert!(status.imported >= 4, "{status:?}");
}
