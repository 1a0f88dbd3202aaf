//! The use cases: one function per thing a person or a client can do (connect a provider, revoke a token,
//! the revenue summary...). The JSON API, the pages and the admin commands all call these; they take
//! plain inputs (the authorized website, who acts) and return domain values or `Error`. Nothing here
//! knows HTTP, JSON envelopes, flash messages or templates. A revocation forgets the cached
//! credential here, so no caller can forget to.

pub mod access;
pub mod accounts;
pub mod analytics;
pub mod api_keys;
pub mod backup;
pub mod check;
pub mod events;
pub mod metrics;
pub mod mrr;
pub mod payments;
pub mod revenue;
pub mod shown_once;
pub mod stripe;
pub mod stripe_webhooks;
pub mod team;
pub mod tokens;
pub mod tracking;
pub mod visitors;
pub mod websites;

use std::sync::Arc;

use crate::auth::cache::AuthCache;
use crate::config::AppConfig;
use crate::crypto::StripeKeyBox;
use crate::db::Db;
use crate::geoip::GeoIp;
use crate::metrics::Metrics;
use crate::providers::stripe::StripeClient;
use crate::sync::Importer;

/// Everything the use cases work with, built once at start-up (see `crate::build`).
pub struct App {
    pub db: Db,
    pub config: AppConfig,
    /// Where people reach this server (see `AppConfig::base_url`).
    pub base_url: String,
    pub stripe_keys: StripeKeyBox,
    pub stripe: StripeClient,
    pub importer: Importer,
    /// The series `/metrics` answers with; this app's own (see `crate::metrics`).
    pub metrics: Arc<Metrics>,
    /// The one-time code of the first-run setup link, while no user exists.
    pub setup: accounts::SetupGate,
    auth_cache: AuthCache,
    /// Today's cookieless key (memory only).
    cookieless: events::DailySalt,
    /// The location database (`geoip_database`), when one is configured.
    pub geoip: Option<Arc<GeoIp>>,
    /// Each website's compiled exclusions (IP ranges, paths).
    tracking_rules: tracking::RulesCache,
    /// The websites events name, with their tracking settings (forgotten when either changes).
    sites: events::SiteCache,
    /// What the user agents events come with say.
    agents: events::AgentCache,
    /// New secrets waiting for the one page view after their creation.
    shown_once: shown_once::ShownOnce,
    /// Each website's MRR figures, computed once per change of its subscriptions.
    mrr: mrr::MrrCache,
}

impl App {
    pub fn new(
        db: Db,
        config: AppConfig,
        base_url: String,
        stripe_keys: StripeKeyBox,
        stripe: StripeClient,
        importer: Importer,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            db,
            config,
            base_url,
            stripe_keys,
            stripe,
            importer,
            metrics,
            setup: accounts::SetupGate::default(),
            auth_cache: AuthCache::default(),
            cookieless: events::DailySalt::default(),
            geoip: None,
            tracking_rules: tracking::RulesCache::default(),
            sites: events::SiteCache::default(),
            agents: events::AgentCache::default(),
            shown_once: shown_once::ShownOnce::default(),
            mrr: mrr::MrrCache::default(),
        }
    }

    /// This app with the location database every event is looked up in.
    #[must_use]
    pub fn with_geoip(self, geoip: Option<Arc<GeoIp>>) -> Self {
        Self { geoip, ..self }
    }

    /// Forgets the websites cached for tracking events, after a website was changed outside the services (a
    /// test's direct write); the services forget them themselves.
    pub fn forget_tracked_sites(&self) {
        self.sites.forget();
    }

    /// Whether the credential with this secret is served from the cache now (for tests that show a
    /// revocation is not outlived by the cache).
    pub fn credential_is_cached(&self, raw_secret: &str) -> bool {
        self.auth_cache.caller(&crate::domain::secret_token::hash_secret(raw_secret)).is_some()
    }

    /// The user's role on the website as the cache serves it now, if it does.
    pub fn cached_role(
        &self,
        website: &crate::domain::ObjectId,
        user: &crate::domain::ObjectId,
    ) -> Option<crate::domain::Role> {
        self.auth_cache.role(website, user)
    }
}
