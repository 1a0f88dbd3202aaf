//! The state every request shares, built once at start-up.

use std::sync::Arc;

use crate::auth_cache::AuthCache;
use crate::config::AppConfig;
use crate::crypto::MasterKey;
use crate::db::Db;
use crate::import::Importer;
use crate::ratelimit::RateLimits;
use crate::stripe::StripeClient;

/// The one-time code of the first-run setup link, while no user exists.
#[derive(Default)]
pub struct SetupGate(pub std::sync::Mutex<Option<String>>);

pub struct AppState {
    pub setup: SetupGate,
    /// Where people reach this server (see `AppConfig::base_url`).
    pub base_url: String,
    pub auth_cache: AuthCache,
    pub db: Db,
    pub config: AppConfig,
    pub master_key: MasterKey,
    pub stripe: StripeClient,
    pub limits: Arc<RateLimits>,
    pub importer: Importer,
}
