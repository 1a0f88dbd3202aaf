//! An in-process Stripe on 127.0.0.1 (wiremock), answering with Stripe's own response bodies
//! (field names as in Stripe's published fixtures).

#![allow(dead_code)] // shared by several test binaries, each using a part

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Match as _, Mock, MockServer, ResponseTemplate};

pub const BALANCE: &str = "/v1/balance";
pub const LISTS: [&str; 5] =
    ["/v1/charges", "/v1/refunds", "/v1/payment_intents", "/v1/checkout/sessions", "/v1/invoices"];
/// The lists of the optional permissions (`rak_subscription_read`, `rak_dispute_read`).
pub const OPTIONAL_LISTS: [&str; 2] = ["/v1/subscriptions", "/v1/disputes"];

pub struct StripeFake {
    pub server: MockServer,
}

pub fn balance(livemode: bool, available: &[(i64, &str)]) -> Value {
    let entries: Vec<Value> = available
        .iter()
        .map(|(amount, currency)| json!({"amount": amount, "currency": currency, "source_types": {"card": amount}}))
        .collect();
    json!({
        "object": "balance",
        "available": entries,
        "connect_reserved": [{"amount": 0, "currency": available.first().map_or("usd", |a| a.1)}],
        "livemode": livemode,
        "pending": [{"amount": 0, "currency": available.first().map_or("usd", |a| a.1), "source_types": {"card": 0}}]
    })
}

pub fn charge(livemode: bool) -> Value {
    json!({
        "id": "ch_3PgafuB7WZ01zgkW0xYcQm1a",
        "object": "charge",
        "amount": 2900,
        "amount_captured": 2900,
        "amount_refunded": 0,
        "balance_transaction": "txn_1PgaxNB7WZ01zgkWEV3TLf40",
        "captured": true,
        "created": 1_716_249_600,
        "currency": "usd",
        "customer": "cus_NffrFeUfNV2Hib",
        "disputed": false,
        "livemode": livemode,
        "metadata": {"datafast_visitor_id": "0b5c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"},
        "paid": true,
        "payment_intent": "pi_3PgafuB7WZ01zgkW0cJv0xYz",
        "refunded": false,
        "status": "succeeded"
    })
}

pub fn list(url: &str, data: Vec<Value>) -> Value {
    json!({"object": "list", "url": url, "has_more": false, "data": data})
}

pub fn invalid_key() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(json!({"error": {
        "message": "Invalid API Key provided: rk_test_**********************Aso0",
        "type": "invalid_request_error"
    }}))
}

pub fn expired_key() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(json!({"error": {
        "code": "api_key_expired",
        "doc_url": "https://stripe.com/docs/error-codes/api-key-expired",
        "message": "Expired API Key provided: rk_test_*********************6i1euf",
        "type": "invalid_request_error"
    }}))
}

pub fn missing_permission(permission: &str) -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({"error": {
        "message": format!("The provided key 'rk_test_*********************qs8Kgd' does not have the required permissions for this endpoint on account 'acct_1PJBLEBBLEfV'. Having the '{permission}' permission would allow this request to continue."),
        "type": "invalid_request_error"
    }}))
}

pub fn rate_limited() -> ResponseTemplate {
    ResponseTemplate::new(429).set_body_json(json!({"error": {
        "code": "rate_limit",
        "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
        "message": "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
        "type": "invalid_request_error"
    }}))
}

pub fn server_error() -> ResponseTemplate {
    ResponseTemplate::new(500).set_body_json(json!({"error": {
        "message": "An unknown error occurred",
        "type": "api_error"
    }}))
}

impl StripeFake {
    pub async fn start() -> Self {
        let fake = Self { server: MockServer::builder().start().await };
        fake.require_pinned_version().await;
        fake
    }

    /// Forgets every mount and every recorded request, keeping the pinned-version check.
    pub async fn reset(&self) {
        self.server.reset().await;
        self.require_pinned_version().await;
    }

    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// Answers `path` with `response` (more specific mounts made later do not override earlier ones,
    /// so tests mount their failures before `healthy`).
    pub async fn answer(&self, at: &str, response: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path(at))
            .and(header_exists("authorization"))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// A working account: the balance and every list the import probes.
    pub async fn healthy(&self, livemode: bool, available: &[(i64, &str)]) {
        self.answer(BALANCE, ResponseTemplate::new(200).set_body_json(balance(livemode, available))).await;
        for list_path in LISTS.into_iter().chain(OPTIONAL_LISTS) {
            let data = if list_path == "/v1/charges" { vec![charge(livemode)] } else { vec![] };
            self.answer(list_path, ResponseTemplate::new(200).set_body_json(list(list_path, data))).await;
        }
    }

    /// Every call answers after `delay` (past the client's timeout in the timeout test).
    pub async fn hang(&self, delay: Duration) {
        self.answer(BALANCE, ResponseTemplate::new(200).set_body_json(balance(true, &[(1, "usd")])).set_delay(delay))
            .await;
    }

    /// How many calls reached the fake, and whether every one carried the key as a bearer token.
    pub async fn calls_with_key(&self, key: &str) -> (usize, bool) {
        let requests = self.server.received_requests().await.unwrap_or_default();
        let all_bearer = requests
            .iter()
            .all(|r| r.headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {key}")));
        (requests.len(), all_bearer)
    }
}

/// The Stripe API version revlink must send on every call, written out here (not taken from the crate), so a change
/// of `revlink::providers::stripe::API_VERSION` fails the tests until they are reviewed with it.
pub const PINNED_VERSION: &str = "2026-02-25.clover";

/// Matches a request that does not carry `Stripe-Version: PINNED_VERSION`.
struct Unpinned;

impl wiremock::Match for Unpinned {
    fn matches(&self, request: &wiremock::Request) -> bool {
        request.headers.get("stripe-version").and_then(|v| v.to_str().ok()) != Some(PINNED_VERSION)
    }
}

impl StripeFake {
    /// Any call without the pinned version is answered with an error before anything else is asked (so verification
    /// fails with a 502 and an import stops in error), whatever a test mounted.
    async fn require_pinned_version(&self) {
        Mock::given(Unpinned)
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": format!("revlink's Stripe fake: this call did not send Stripe-Version: {PINNED_VERSION}"),
                "type": "invalid_request_error"
            }})))
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// Every call the fake received (method and path with its query), and those of them without the pinned version.
    pub async fn calls_and_unpinned(&self) -> (Vec<String>, Vec<String>) {
        let requests = self.server.received_requests().await.unwrap_or_default();
        let name = |r: &wiremock::Request| format!("{} {}", r.method, &r.url[url::Position::BeforePath..]);
        let unpinned = requests.iter().filter(|r| Unpinned.matches(r)).map(name).collect();
        (requests.iter().map(name).collect(), unpinned)
    }
}

impl StripeFake {
    /// The lists a sync reads besides `LISTS` (disputes, optional) and the reconciliation's ledger, empty: with
    /// `healthy`, every call of an import is answered (wiremock logs an unanswered request with its headers).
    pub async fn optional_lists(&self) {
        for list_path in ["/v1/disputes", "/v1/balance_transactions"] {
            self.answer(list_path, ResponseTemplate::new(200).set_body_json(list(list_path, vec![]))).await;
        }
    }
}
