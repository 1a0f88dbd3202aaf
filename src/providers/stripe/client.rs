//! One reqwest client for Stripe, with the configured base URL and timeout, pinned to one API version (every
//! request sends `Stripe-Version: API_VERSION`). Keys go only into the Authorization header; what is logged is the
//! path, the status and Stripe's `Request-Id`.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

use secrecy::{ExposeSecret, SecretString};

use crate::providers::stripe::API_VERSION;

#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: String,
}

/// What one call to Stripe came to.
#[derive(Debug)]
pub enum Reply {
    Ok(bytes::Bytes),
    /// A non-2xx answer: status, Stripe's error message (if it sent one), `Retry-After` seconds.
    Failed {
        status: StatusCode,
        message: Option<String>,
        retry_after: Option<u64>,
    },
    Timeout,
    /// Connection refused, reset, TLS failure and the like.
    Unreachable(String),
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: Option<String>,
}

impl StripeClient {
    pub fn new(base: &str, timeout: Duration) -> reqwest::Result<Self> {
        // A default header, so that no call (today's GETs or any later one) can go out without it.
        let mut pinned = reqwest::header::HeaderMap::new();
        pinned.insert("stripe-version", reqwest::header::HeaderValue::from_static(API_VERSION));
        let http = reqwest::Client::builder()
            .default_headers(pinned)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("revlink/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned() })
    }

    /// `GET {base}{path_and_query}` with the key as a bearer token.
    pub async fn get(&self, key: &SecretString, path_and_query: &str) -> Reply {
        let url = format!("{}{path_and_query}", self.base);
        let sent = self.http.get(&url).bearer_auth(key.expose_secret()).send().await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                tracing::warn!(path = path_and_query, "Stripe did not answer in time");
                return Reply::Timeout;
            }
            Err(e) => {
                // reqwest's error names the URL, never the headers.
                tracing::warn!(path = path_and_query, error = %e, "Stripe could not be reached");
                return Reply::Unreachable(e.to_string());
            }
        };
        let status = response.status();
        let request_id = header(&response, "request-id").unwrap_or_default();
        let retry_after = header(&response, "retry-after").and_then(|v| v.parse().ok());
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => return Reply::Timeout,
            Err(e) => return Reply::Unreachable(e.to_string()),
        };
        tracing::debug!(path = path_and_query, status = status.as_u16(), request_id, "Stripe answered");
        if status.is_success() {
            return Reply::Ok(body);
        }
        let message = serde_json::from_slice::<ErrorBody>(&body).ok().and_then(|b| b.error.message);
        tracing::info!(path = path_and_query, status = status.as_u16(), request_id, "Stripe refused a call");
        Reply::Failed { status, message, retry_after }
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}
