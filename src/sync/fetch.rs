//! One GET to Stripe as the import makes it: paced to the key's request rate, retried with exponential
//! backoff and jitter on 429, 5xx, timeouts and unreachable servers (honouring `Retry-After`), never
//! retried on 401/403, which stop the import until someone acts.

use std::time::Duration;

use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::Inner;
use crate::providers::stripe::client::Reply;
use crate::providers::stripe::verify::permission_named_in;

pub const KEY_REJECTED: &str =
    "Stripe rejected the key: it is invalid, expired or revoked. Create a new restricted key and connect it.";

/// Why a sync ends early.
#[derive(Debug)]
pub enum Stop {
    /// Stripe refused the key: stop until a new key or a manual sync.
    Refused(String),
    /// Stripe kept failing, or answered something unusable: the next sync tries again.
    Failed(String),
    /// The connection was removed or replaced while syncing.
    Disconnected,
}

#[derive(Debug)]
pub enum FetchError {
    Stop(Stop),
    /// 404: the list does not exist on this server (or the object is gone).
    NotFound,
    /// 400: Stripe did not accept the request (e.g. an unknown cursor or expansion).
    Invalid(Option<String>),
    /// 403 to `get_optional`: the key lacks a permission (Stripe's message, which names it).
    Forbidden(Option<String>),
}

impl From<Stop> for FetchError {
    fn from(s: Stop) -> Self {
        Self::Stop(s)
    }
}

/// The key a sync reads with, and where its requests are counted.
pub struct Caller<'a> {
    inner: &'a Inner,
    key: SecretString,
    limit_key: [u8; 32],
    live: bool,
}

impl<'a> Caller<'a> {
    pub fn new(inner: &'a Inner, key: SecretString, live: bool) -> Self {
        let limit_key = Sha256::digest(key.expose_secret().as_bytes()).into();
        Self { inner, key, limit_key, live }
    }

    /// A GET whose 403 stops the sync: the lists every import needs.
    pub async fn get(&self, path_and_query: &str) -> Result<Bytes, FetchError> {
        self.get_optional(path_and_query).await.map_err(|e| match e {
            FetchError::Forbidden(message) => {
                let permission = message.as_deref().and_then(permission_named_in);
                let missing =
                    permission.map_or_else(|| "a Read permission".to_owned(), |p| format!("the {p} permission"));
                Stop::Refused(format!(
                    "The key is missing {missing} the import needs. Grant it Read access in Stripe's dashboard, then sync again."
                ))
                .into()
            }
            e => e,
        })
    }

    /// A GET whose 403 is answered as `FetchError::Forbidden`: a list the key may lack (subscriptions).
    pub async fn get_optional(&self, path_and_query: &str) -> Result<Bytes, FetchError> {
        let config = &self.inner.config;
        let mut attempt = 0;
        loop {
            let limiter = if self.live { &self.inner.live_limit } else { &self.inner.test_limit };
            limiter.until_key_ready(&self.limit_key).await;
            let (what, retry_after) = match self.inner.client.get(&self.key, path_and_query).await {
                Reply::Ok(body) => return Ok(body),
                Reply::Failed { status, message, retry_after } => match status.as_u16() {
                    401 => return Err(Stop::Refused(KEY_REJECTED.into()).into()),
                    403 => return Err(FetchError::Forbidden(message)),
                    404 => return Err(FetchError::NotFound),
                    400 => return Err(FetchError::Invalid(message)),
                    429 => ("Stripe is rate limiting this key (429)".to_owned(), retry_after),
                    s @ 500..=599 => (format!("Stripe failed ({s})"), retry_after),
                    s => {
                        let detail = message.unwrap_or_default();
                        return Err(Stop::Failed(format!(
                            "Stripe answered {s} to {}: {detail}",
                            route(path_and_query)
                        ))
                        .into());
                    }
                },
                Reply::Timeout => ("Stripe did not answer in time".to_owned(), None),
                Reply::Unreachable(_) => ("Stripe could not be reached".to_owned(), None),
            };
            if attempt >= config.stripe_max_retries {
                return Err(Stop::Failed(format!(
                    "{what}, {} times in a row; revlink tries again at the next sync",
                    attempt + 1
                ))
                .into());
            }
            let wait = backoff(config.stripe_retry_base_ms, attempt, retry_after);
            tracing::info!(
                path = route(path_and_query),
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "{what}; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// `base · 2^attempt` (at most 64 · base), drawn from its upper half so that many waiting syncs do
/// not come back together; never sooner than Stripe's `Retry-After`.
fn backoff(base_ms: u64, attempt: u32, retry_after: Option<u64>) -> Duration {
    let ceiling = base_ms.saturating_mul(1 << attempt.min(6));
    let jittered = rand::random_range(ceiling / 2..=ceiling);
    Duration::from_millis(jittered).max(Duration::from_secs(retry_after.unwrap_or(0)))
}

/// The path without its query (the query holds only ids and times, but logs stay short).
fn route(path_and_query: &str) -> &str {
    path_and_query.split('?').next().unwrap_or(path_and_query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_respects_retry_after() {
        for attempt in 0..10 {
            let ceiling = 100u64 << attempt.min(6);
            let d = u64::try_from(backoff(100, attempt, None).as_millis()).unwrap();
            assert!((ceiling / 2..=ceiling).contains(&d), "attempt {attempt}: {d} ms");
        }
        assert_eq!(backoff(100, 0, Some(3)), Duration::from_secs(3));
        let draws: std::collections::HashSet<_> = (0..50).map(|_| backoff(1000, 3, None)).collect();
        assert!(draws.len() > 1, "jittered");
    }
}
