//! Request rate limits (contract §5): per credential, per client address for failed
//! authentication, per client address for tracking events, and (apart) for Stripe webhook deliveries. The `X-RateLimit-*` headers are added to every answer by `RateLimitHeaders`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::{StateInformationMiddleware, StateSnapshot};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

pub struct RateLimits {
    per_credential: Keyed<String>,
    auth_failures: Keyed<IpAddr>,
    login_by_address: Keyed<IpAddr>,
    login_by_account: Keyed<String>,
    events_by_address: Keyed<IpAddr>,
    /// Stripe's deliveries come from a handful of its addresses: they get the event quota, in their own bucket.
    webhooks_by_address: Keyed<IpAddr>,
    setup_links: Keyed<()>,
    clock: DefaultClock,
}

/// What the headers of one answer say.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
}

/// A refused request: the headers to send and how long to wait.
#[derive(Debug, Clone, Copy)]
pub struct Exceeded {
    pub window: Window,
    pub retry_after: u64,
}

const LOGINS_PER_ADDRESS_PER_MINUTE: u32 = 10;
const LOGINS_PER_ACCOUNT_PER_MINUTE: u32 = 5;
/// Fresh setup links printed at a visitor's request, whoever asks: enough for an operator who lost one, too
/// few for anyone to flood the server's output.
const SETUP_LINKS_PER_MINUTE: u32 = 3;

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(per_credential_per_minute: u32, auth_failures_per_minute: u32, events_per_minute: u32) -> Self {
        Self {
            per_credential: RateLimiter::keyed(quota(per_credential_per_minute)).with_middleware(),
            auth_failures: RateLimiter::keyed(quota(auth_failures_per_minute)).with_middleware(),
            login_by_address: RateLimiter::keyed(quota(LOGINS_PER_ADDRESS_PER_MINUTE)).with_middleware(),
            login_by_account: RateLimiter::keyed(quota(LOGINS_PER_ACCOUNT_PER_MINUTE)).with_middleware(),
            events_by_address: RateLimiter::keyed(quota(events_per_minute)).with_middleware(),
            webhooks_by_address: RateLimiter::keyed(quota(events_per_minute)).with_middleware(),
            setup_links: RateLimiter::keyed(quota(SETUP_LINKS_PER_MINUTE)).with_middleware(),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request by `credential` (a token or key id).
    pub fn check_credential(&self, credential: &str) -> Result<Window, Exceeded> {
        let outcome = self.per_credential.check_key(&credential.to_owned());
        self.judge(outcome)
    }

    /// Counts one failed authentication from `ip`.
    pub fn check_auth_failure(&self, ip: IpAddr) -> Result<Window, Exceeded> {
        let outcome = self.auth_failures.check_key(&ip);
        self.judge(outcome)
    }

    /// Counts one tracking event from `ip`.
    pub fn check_event(&self, ip: IpAddr) -> Result<Window, Exceeded> {
        let outcome = self.events_by_address.check_key(&ip);
        self.judge(outcome)
    }

    /// Counts one webhook delivery from `ip` (before its signature is checked).
    pub fn check_webhook(&self, ip: IpAddr) -> Result<Window, Exceeded> {
        let outcome = self.webhooks_by_address.check_key(&ip);
        self.judge(outcome)
    }

    fn judge(
        &self,
        outcome: Result<StateSnapshot, governor::NotUntil<governor::clock::QuantaInstant>>,
    ) -> Result<Window, Exceeded> {
        match outcome {
            Ok(snapshot) => {
                let limit = snapshot.quota().burst_size().get();
                let remaining = snapshot.remaining_burst_capacity();
                let per_cell = snapshot.quota().replenish_interval();
                let reset = per_cell * (limit - remaining);
                Ok(Window { limit, remaining, reset_secs: ceil_secs(reset) })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                let limit = not_until.quota().burst_size().get();
                let reset = not_until.quota().replenish_interval() * limit;
                let retry_after = ceil_secs(wait).max(1);
                Err(Exceeded { window: Window { limit, remaining: 0, reset_secs: ceil_secs(reset) }, retry_after })
            }
        }
    }

    /// Counts one login attempt, per address and per account, before the password is checked, so
    /// that past the limit nothing is verified at all.
    pub fn check_login_attempt(&self, ip: IpAddr, email: &str) -> Result<(), Exceeded> {
        let by_address = self.judge(self.login_by_address.check_key(&ip));
        let by_account = self.judge(self.login_by_account.check_key(&email.to_owned()));
        by_address.and(by_account).map(|_| ())
    }

    /// Counts one request for a fresh setup link (one budget for all callers).
    pub fn check_setup_link(&self) -> Result<(), Exceeded> {
        self.judge(self.setup_links.check_key(&())).map(|_| ())
    }

    /// Forgets keys that are back at full capacity, so memory tracks only recent callers.
    pub fn shrink(&self) {
        self.per_credential.retain_recent();
        self.auth_failures.retain_recent();
        self.login_by_address.retain_recent();
        self.login_by_account.retain_recent();
        self.events_by_address.retain_recent();
        self.webhooks_by_address.retain_recent();
        self.per_credential.shrink_to_fit();
        self.auth_failures.shrink_to_fit();
        self.events_by_address.shrink_to_fit();
        self.webhooks_by_address.shrink_to_fit();
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The window that applied to this request, left by the auth guard.
pub struct AppliedWindow(pub std::sync::OnceLock<Window>);

pub fn record(req: &Request<'_>, window: Window) {
    let _ = req.local_cache(|| AppliedWindow(std::sync::OnceLock::new())).0.set(window);
}

/// Writes `X-RateLimit-*` on every answer a limit applied to.
pub struct RateLimitHeaders;

#[rocket::async_trait]
impl Fairing for RateLimitHeaders {
    fn info(&self) -> Info {
        Info { name: "X-RateLimit headers", kind: Kind::Response }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let applied = req.local_cache(|| AppliedWindow(std::sync::OnceLock::new()));
        if let Some(w) = applied.0.get() {
            res.set_header(Header::new("X-RateLimit-Limit", w.limit.to_string()));
            res.set_header(Header::new("X-RateLimit-Remaining", w.remaining.to_string()));
            res.set_header(Header::new("X-RateLimit-Reset", w.reset_secs.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_refuses_with_a_wait() {
        let limits = RateLimits::new(3, 1, 1);
        let w1 = limits.check_credential("t").unwrap();
        assert_eq!((w1.limit, w1.remaining), (3, 2));
        limits.check_credential("t").unwrap();
        limits.check_credential("t").unwrap();
        let refused = limits.check_credential("t").unwrap_err();
        assert_eq!(refused.window.remaining, 0);
        assert!((1..=20).contains(&refused.retry_after), "{}", refused.retry_after);
        assert!(limits.check_credential("other").is_ok(), "limits are per credential");
        let (a, b) = ("203.0.113.1".parse().unwrap(), "203.0.113.2".parse().unwrap());
        assert!(limits.check_event(a).is_ok());
        assert!(limits.check_event(a).is_err(), "one event a minute");
        assert!(limits.check_event(b).is_ok(), "events are limited per address");
        assert!(limits.check_webhook(a).is_ok(), "webhook deliveries have their own bucket");
        assert!(limits.check_webhook(a).is_err());
    }
}
