//! revlink: a self-hosted, DataFast-compatible Account API that connects Stripe to web analytics.
//! `build` assembles the Rocket application from a figment; the binary and the tests both call it.

pub mod api;
pub mod auth;
pub mod auth_cache;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod import;
pub mod ratelimit;
pub mod state;
pub mod stripe;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::figment::Figment;
use rocket::http::Header;
use rocket::shield::{Frame, NoSniff, Referrer, Shield};
use rocket::{Build, Orbit, Request, Response, Rocket};

use crate::config::{AppConfig, ConfigError};
use crate::crypto::MasterKey;
use crate::db::Db;
use crate::ratelimit::{RateLimitHeaders, RateLimits};
use crate::state::AppState;
use crate::stripe::StripeClient;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the database: {0}")]
    Database(error::Error),
    #[error("refusing to start: {0}")]
    MasterKey(String),
    #[error("cannot build the HTTP client for Stripe: {0}")]
    HttpClient(#[from] reqwest::Error),
}

/// The configuration, the migrated database and the verified master key: what the server and the
/// admin commands both need before they do anything.
pub struct Runtime {
    pub config: AppConfig,
    pub db: Db,
    pub master_key: MasterKey,
}

impl Runtime {
    pub fn open(figment: &Figment) -> Result<Self, StartupError> {
        let config = AppConfig::from_figment(figment)?;
        config.ensure_data_dir()?;
        let db = Db::open(&config.database_path(), config.db_pool_size).map_err(StartupError::Database)?;
        let stored = db.with_conn(|c| db::stripe::count(c)).map_err(StartupError::Database)?;
        let master_key = config.load_master_key(stored > 0)?;
        db.with_conn(|c| db::stripe::verify_master_key(c, &master_key)).map_err(|e| {
            let detail = match e {
                error::Error::Internal(m) => m,
                other => other.to_string(),
            };
            StartupError::MasterKey(detail)
        })?;
        Ok(Self { config, db, master_key })
    }
}

/// The Content-Security-Policy of every answer: no inline script or style, nothing from elsewhere.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Adds `X-Request-Id` (the same id a 5xx is logged with) and the Content-Security-Policy to every answer.
struct RequestIds;

#[rocket::async_trait]
impl Fairing for RequestIds {
    fn info(&self) -> Info {
        Info { name: "request ids", kind: Kind::Response }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new("X-Request-Id", error::request_id(req).to_owned()));
        res.set_header(Header::new("Content-Security-Policy", CSP));
    }
}

/// The whole application from a figment (see `config::figment`); tests pass their own.
pub fn build(figment: Figment) -> Result<Rocket<Build>, StartupError> {
    let runtime = Runtime::open(&figment)?;
    let figment = match runtime.config.secret_key_hex(&figment)? {
        Some(secret) => figment.merge(("secret_key", secret)),
        None => figment,
    };
    let config = runtime.config;
    let stripe = StripeClient::new(&config.stripe_api_base, Duration::from_secs(config.stripe_timeout_secs))?;
    let limits = Arc::new(RateLimits::new(config.rate_limit_per_minute, config.auth_failure_limit_per_minute));
    let base_url = config.base_url(&figment);
    let figment = figment.merge(("template_dir", web::assets::template_dir(&config.data_dir)));
    let importer =
        import::Importer::new(runtime.db.clone(), stripe.clone(), runtime.master_key.clone(), config.import.clone());
    let state = AppState {
        setup: state::SetupGate::default(),
        base_url,
        auth_cache: auth_cache::AuthCache::default(),
        db: runtime.db,
        config,
        master_key: runtime.master_key,
        stripe,
        limits,
        importer,
    };

    Ok(rocket::custom(figment)
        .manage(state)
        .attach(RequestIds)
        .attach(Shield::default().enable(Frame::Deny).enable(Referrer::SameOrigin).enable(NoSniff::Enable))
        .attach(web::assets::templates())
        .attach(AdHoc::on_liftoff("first-run setup link", |rocket| Box::pin(print_setup_link(rocket))))
        .attach(RateLimitHeaders)
        .attach(AdHoc::on_liftoff("rate limit housekeeping", |rocket| {
            Box::pin(async move {
                let Some(state) = rocket.state::<AppState>() else {
                    return;
                };
                let limits = Arc::clone(&state.limits);
                let shutdown = rocket.shutdown();
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(Duration::from_secs(60));
                    tokio::pin!(shutdown);
                    loop {
                        tokio::select! {
                            _ = tick.tick() => limits.shrink(),
                            () = &mut shutdown => break,
                        }
                    }
                });
            })
        }))
        .attach(AdHoc::on_liftoff("Stripe import schedule", |rocket| {
            Box::pin(async move {
                if let Some(state) = rocket.state::<AppState>() {
                    let shutdown = rocket.shutdown();
                    tokio::spawn(state.importer.clone().schedule(async move {
                        shutdown.await;
                    }));
                }
            })
        }))
        .mount("/api/v1/admin", api::admin_routes())
        .mount("/api/v1", api::v1_routes())
        .mount("/", web::routes())
        .register("/", api::catchers()))
}

/// While no user exists, prints (once, at start) the link with a fresh one-time setup code.
async fn print_setup_link(rocket: &Rocket<Orbit>) {
    let Some(state) = rocket.state::<AppState>() else { return };
    match state.db.run(|c| db::users::count(c)).await {
        Ok(0) => {
            let code = hex::encode(rand::random::<[u8; 16]>());
            let link = format!("{}/setup?code={code}", state.base_url);
            if let Ok(mut slot) = state.setup.0.lock() {
                *slot = Some(code);
            }
            println!("revlink has no account yet. Open this link to set it up:\n\n    {link}\n");
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "cannot count users for the setup link"),
    }
}
