//! The state every request shares, built once at start-up.

use std::sync::Arc;

use crate::auth_cache::AuthCache;
use crate::config::AppConfig;
use crate::crypto::MasterKey;
use crate::db::Db;
use crate::ratelimit::RateLimits;
use crate::stripe::StripeClient;

pub struct AppState {
    pub auth_cache: AuthCache,
    pub db: Db,
    pub config: AppConfig,
    pub master_key: MasterKey,
    pub stripe: StripeClient,
    pub limits: Arc<RateLimits>,
}
