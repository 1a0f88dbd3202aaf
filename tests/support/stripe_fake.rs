//! An in-process Stripe on 127.0.0.1 (wiremock), answering with Stripe's own response bodies
//! (field names as in Stripe's published fixtures).

#![allow(dead_code)] // shared by several test binaries, each using a part

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const BALANCE: &str = "/v1/balance";
/// Every list the import reads (subscriptions: optional, for MRR). Each is answered by `healthy`: wiremock logs an
/// unmatched request with its headers, the key included.
pub const LISTS: [&str; 6] =
    ["/v1/charges", "/v1/refunds", "/v1/payment_intents", "/v1/checkout/sessions", "/v1/invoices", "/v1/subscriptions"];

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
        Self { server: MockServer::builder().start().await }
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
        for list_path in LISTS {
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
