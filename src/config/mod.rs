//! AppConfig, read through Rocket's figment (defaults → Rocket.toml → ROCKET_* env), and the secrets
//! generated on first run under the data directory.

use std::path::PathBuf;

use rocket::data::{Limits, ToByteUnit};
use rocket::figment::providers::{Env, Format, Serialized, Toml};
use rocket::figment::{Figment, Profile};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use crate::domain::environment::Environment;
pub use files::{make_private, write_new_secret_file};

mod files;

#[derive(Debug, Clone, Deserialize)]
pub struct AppConfig {
    #[serde(default = "defaults::data_dir")]
    pub data_dir: PathBuf,
    #[serde(default = "Environment::for_this_build")]
    pub environment: Environment,
    #[serde(default = "defaults::stripe_api_base")]
    pub stripe_api_base: String,
    /// Seconds before a call to Stripe is abandoned (answered 504).
    #[serde(default = "defaults::stripe_timeout_secs")]
    pub stripe_timeout_secs: u64,
    /// 64 hex characters; takes precedence over `master_key_file`.
    #[serde(default)]
    pub master_key: Option<SecretString>,
    /// Default `<data_dir>/master.key`, generated (mode 0600) on first run.
    #[serde(default)]
    pub master_key_file: Option<PathBuf>,
    /// Requests per minute per credential.
    #[serde(default = "defaults::rate_limit_per_minute")]
    pub rate_limit_per_minute: u32,
    /// Failed authentications per minute per client address.
    #[serde(default = "defaults::auth_failure_limit_per_minute")]
    pub auth_failure_limit_per_minute: u32,
    /// Tracking events (`POST /api/events`) accepted per minute from one client address; Stripe webhook deliveries
    /// get the same quota, counted apart.
    #[serde(default = "defaults::event_limit_per_minute")]
    pub event_limit_per_minute: u32,
    /// The request header in which a trusted proxy names the visitor's country (`CF-IPCountry`), believed
    /// only from `trusted_proxies`. No default: countries are unknown.
    #[serde(default)]
    pub country_header: Option<String>,
    /// A MaxMind-format database (`GeoLite2-City.mmdb`, or a Country edition) that gives each event's
    /// country, region and city from the client address; it takes precedence over `country_header`. Read
    /// once at start-up; a missing or malformed file stops the start. No default: no lookup.
    #[serde(default)]
    pub geoip_database: Option<PathBuf>,
    /// Raw tracking events (the `events` table) older than this many days are deleted by the server;
    /// visitors and sessions, which the reports read, stay. 0 (the default) keeps every event.
    #[serde(default)]
    pub events_retention_days: u32,
    #[serde(default = "defaults::db_pool_size")]
    pub db_pool_size: u32,
    /// Where people reach revlink (`https://revlink.example.com`); used in printed and invitation
    /// links. With `https://`, session cookies are marked Secure. Default `http://<address>:<port>`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// How long a browser session lasts.
    #[serde(default = "defaults::session_hours")]
    pub session_hours: u32,
    /// Reverse proxies (addresses or CIDR networks) whose `X-Real-IP` / `X-Forwarded-For` name the
    /// client. Empty: no such header is believed; the TCP peer is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The bearer token that opens `GET /metrics` from anywhere (a loopback peer needs none).
    /// No default: without it, only this machine may scrape.
    #[serde(default)]
    pub metrics_token: Option<SecretString>,
    /// The Stripe import (see `ImportConfig`).
    #[serde(flatten)]
    pub import: ImportConfig,
    /// Scheduled backups (see `BackupConfig`).
    #[serde(flatten)]
    pub backup: BackupConfig,
    /// Rocket's own launch banner (its configuration, every route, catcher and fairing: about a hundred lines)
    /// on the console; off, revlink prints its short start banner only.
    #[serde(default)]
    pub rocket_banner: bool,
}

/// The server's scheduled backups. Flat keys in `Rocket.toml` / `ROCKET_*` like every other setting.
#[derive(Debug, Clone, Deserialize)]
pub struct BackupConfig {
    /// Where the server writes `revlink-YYYYMMDDTHHMMSSZ.sqlite3` copies; none (the default) turns them off.
    #[serde(default)]
    pub backup_dir: Option<PathBuf>,
    /// Hours between two scheduled backups.
    #[serde(default = "defaults::backup_interval_hours")]
    pub backup_interval_hours: u64,
    /// How many scheduled backups stay in `backup_dir`; older ones are deleted.
    #[serde(default = "defaults::backup_keep")]
    pub backup_keep: u32,
}

/// How the Stripe import runs. Flat keys in `Rocket.toml` / `ROCKET_*` like every other setting.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportConfig {
    /// Start an import on connect and every `sync_interval_secs`; `false` leaves imports to
    /// `POST …/integrations/stripe/sync`.
    #[serde(default = "defaults::yes")]
    pub auto_import: bool,
    #[serde(default = "defaults::sync_interval_secs")]
    pub sync_interval_secs: u64,
    /// How far back the first import reads.
    #[serde(default = "defaults::import_since_days")]
    pub import_since_days: u32,
    /// Every sync re-reads the lists this many days back, to see refunds, disputes and late
    /// attribution on recent payments (older refunds come from Stripe's refund list).
    #[serde(default = "defaults::rescan_days")]
    pub rescan_days: u32,
    /// Once a day (and on request) revlink's gross, refunds and fees of each of the last this many UTC days are
    /// compared with Stripe's balance transactions; 0 turns the comparison off.
    #[serde(default = "defaults::reconcile_days")]
    pub reconcile_days: u32,
    /// Requests per second per key: Stripe allows 100 in live mode and 25 in test mode.
    #[serde(default = "defaults::stripe_live_requests_per_second")]
    pub stripe_live_requests_per_second: u32,
    #[serde(default = "defaults::stripe_test_requests_per_second")]
    pub stripe_test_requests_per_second: u32,
    /// The first retry waits about this long; each further one twice as long, at most 64 times.
    #[serde(default = "defaults::stripe_retry_base_ms")]
    pub stripe_retry_base_ms: u64,
    /// Retries of one call (429, 5xx, timeouts) before the sync gives up until the next one.
    #[serde(default = "defaults::stripe_max_retries")]
    pub stripe_max_retries: u32,
}

mod defaults {
    use std::path::PathBuf;

    pub fn data_dir() -> PathBuf {
        PathBuf::from("data")
    }
    pub fn stripe_api_base() -> String {
        "https://api.stripe.com".into()
    }
    pub fn stripe_timeout_secs() -> u64 {
        10
    }
    pub fn rate_limit_per_minute() -> u32 {
        300
    }
    pub fn auth_failure_limit_per_minute() -> u32 {
        30
    }
    pub fn event_limit_per_minute() -> u32 {
        600
    }
    pub fn db_pool_size() -> u32 {
        8
    }
    pub fn session_hours() -> u32 {
        24 * 7
    }
    pub fn yes() -> bool {
        true
    }
    pub fn sync_interval_secs() -> u64 {
        600
    }
    pub fn import_since_days() -> u32 {
        730
    }
    pub fn reconcile_days() -> u32 {
        35
    }
    pub fn rescan_days() -> u32 {
        30
    }
    pub fn stripe_live_requests_per_second() -> u32 {
        40
    }
    pub fn stripe_test_requests_per_second() -> u32 {
        10
    }
    pub fn stripe_retry_base_ms() -> u64 {
        1000
    }
    pub fn stripe_max_retries() -> u32 {
        8
    }
    pub fn backup_interval_hours() -> u64 {
        24
    }
    pub fn backup_keep() -> u32 {
        7
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Figment(#[from] Box<rocket::figment::Error>),
    #[error("{0}")]
    Invalid(String),
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
}

/// The shortest `metrics_token` accepted: the token is all that guards the route from afar.
const MIN_METRICS_TOKEN: usize = 16;

/// Rocket's own figment with revlink's defaults underneath: 64 KiB JSON bodies, `log_level` normal.
/// Same sources and precedence as `rocket::Config::figment()`.
pub fn figment() -> Figment {
    let limits = Limits::default().limit("json", 64.kibibytes());
    // Rocket's `ip_header` would believe any client's X-Real-IP; `trusted_proxies` decides instead.
    // `log_level` normal in every build (Rocket's release default is critical): revlink's info lines are for the
    // operator (see `console`).
    Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(serde_json::json!({ "limits": limits, "ip_header": false, "log_level": "normal" })))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or("ROCKET_PROFILE", rocket::Config::DEFAULT_PROFILE))
}

impl AppConfig {
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let config: Self = figment.extract().map_err(Box::new)?;
        if config.rate_limit_per_minute == 0
            || config.auth_failure_limit_per_minute == 0
            || config.event_limit_per_minute == 0
        {
            return Err(ConfigError::Invalid("rate limits must be at least 1 per minute".into()));
        }
        if config.metrics_token.as_ref().is_some_and(|t| t.expose_secret().trim().chars().count() < MIN_METRICS_TOKEN) {
            return Err(ConfigError::Invalid(format!(
                "metrics_token must be at least {MIN_METRICS_TOKEN} characters (openssl rand -hex 32 makes one)"
            )));
        }
        if config.stripe_timeout_secs == 0 {
            return Err(ConfigError::Invalid("stripe_timeout_secs must be at least 1".into()));
        }
        let import = &config.import;
        if import.sync_interval_secs == 0
            || import.stripe_live_requests_per_second == 0
            || import.stripe_test_requests_per_second == 0
        {
            return Err(ConfigError::Invalid(
                "sync_interval_secs and stripe_*_requests_per_second must be at least 1".into(),
            ));
        }
        if config.backup.backup_interval_hours == 0 || config.backup.backup_keep == 0 {
            return Err(ConfigError::Invalid("backup_interval_hours and backup_keep must be at least 1".into()));
        }
        Ok(config)
    }

    /// The base of links revlink prints or sends, without a trailing slash.
    pub fn base_url(&self, figment: &Figment) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let address: String = figment.extract_inner("address").unwrap_or_else(|_| "127.0.0.1".into());
        let port: u16 = figment.extract_inner("port").unwrap_or(8000);
        let host = if address.contains(':') { format!("[{address}]") } else { address };
        format!("http://{host}:{port}")
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("revlink.sqlite3")
    }

    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file.clone().unwrap_or_else(|| self.data_dir.join("master.key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn defaults_apply_without_any_file() {
        let fig = Figment::from(Serialized::defaults(serde_json::json!({})));
        let c = AppConfig::from_figment(&fig).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.stripe_api_base, "https://api.stripe.com");
        assert_eq!(c.rate_limit_per_minute, 300);
        assert_eq!(c.environment, Environment::Development, "tests are debug builds");
    }

    #[test]
    fn rocket_toml_lists_the_defaults() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/Rocket.toml");
        let text = fs::read_to_string(path).unwrap();
        let from_file = AppConfig::from_figment(&Figment::from(Toml::file(path).nested())).unwrap();
        let built_in = AppConfig::from_figment(&Figment::from(Serialized::defaults(serde_json::json!({})))).unwrap();
        assert_eq!(format!("{from_file:?}"), format!("{built_in:?}"), "Rocket.toml and the code disagree");
        let mentioned = |key: &str| text.lines().any(|l| l.trim_start_matches("# ").starts_with(&format!("{key} =")));
        for key in [
            "data_dir",
            "environment",
            "stripe_api_base",
            "stripe_timeout_secs",
            "master_key",
            "master_key_file",
            "rate_limit_per_minute",
            "auth_failure_limit_per_minute",
            "event_limit_per_minute",
            "country_header",
            "geoip_database",
            "events_retention_days",
            "db_pool_size",
            "public_url",
            "session_hours",
            "trusted_proxies",
            "metrics_token",
            "auto_import",
            "sync_interval_secs",
            "import_since_days",
            "rescan_days",
            "stripe_live_requests_per_second",
            "stripe_test_requests_per_second",
            "stripe_retry_base_ms",
            "stripe_max_retries",
            "backup_dir",
            "backup_interval_hours",
            "backup_keep",
            "rocket_banner",
        ] {
            assert!(mentioned(key), "Rocket.toml does not list {key}");
        }
    }

    #[test]
    fn metrics_token_is_redacted_and_must_not_be_short() {
        let token = "0123456789abcdef0123456789abcdef";
        let config = AppConfig::from_figment(&figment().merge(("metrics_token", token))).unwrap();
        assert_eq!(config.metrics_token.as_ref().map(ExposeSecret::expose_secret), Some(token));
        assert!(!format!("{config:?}").contains(token), "Debug shows the token");
        let err = AppConfig::from_figment(&figment().merge(("metrics_token", "short"))).unwrap_err();
        assert!(err.to_string().contains("at least 16"), "{err}");
    }
}
