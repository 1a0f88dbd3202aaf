//! revlink: a self-hosted, DataFast-compatible Account API that connects Stripe to web analytics.
//! `build` assembles the Rocket application from a figment; the binary and the tests both call it.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod geoip;
pub mod metrics;
pub mod providers;
pub mod service;
pub mod sync;
pub mod web;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::figment::Figment;
use rocket::http::Header;
use rocket::shield::{Frame, NoSniff, Referrer, Shield};
use rocket::{Build, Data, Orbit, Request, Response, Rocket};

use crate::auth::client::TrustedProxies;
use crate::auth::ratelimit::{RateLimitHeaders, RateLimits};
use crate::config::{AppConfig, ConfigError};
use crate::crypto::StripeKeyBox;
use crate::db::Db;
use crate::geoip::GeoIp;
use crate::metrics::Metrics;
use crate::providers::stripe::StripeClient;
use crate::service::App;
use crate::sync::Importer;

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
    #[error(transparent)]
    GeoIp(#[from] geoip::GeoIpError),
}

/// The configuration and the migrated database, the master key not yet loaded: what `revlink backup`
/// needs, and `revlink check`, which reports a secret the master key cannot open instead of refusing.
pub struct Storage {
    pub config: AppConfig,
    pub db: Db,
}

impl Storage {
    pub fn open(figment: &Figment) -> Result<Self, StartupError> {
        let config = AppConfig::from_figment(figment)?;
        config.ensure_data_dir()?;
        let db = Db::open(&config.database_path(), config.db_pool_size).map_err(StartupError::Database)?;
        Ok(Self { config, db })
    }

    /// The configured master key (generated on first run, while no secret is stored: then its file is
    /// named too), not yet checked against the stored secrets.
    pub fn load_master_key(&self) -> Result<(StripeKeyBox, Option<PathBuf>), StartupError> {
        let stored = self.db.with_conn(|c| db::stripe::count(c)).map_err(StartupError::Database)?;
        let (key, generated) = self.config.load_master_key(stored > 0)?;
        Ok((StripeKeyBox::new(key), generated))
    }
}

/// The configuration, the migrated database and the verified master key: what the server and the
/// admin commands both need before they do anything.
pub struct Runtime {
    pub config: AppConfig,
    pub db: Db,
    pub stripe_keys: StripeKeyBox,
    /// The secret files this opening generated (a first run): a server that then fails to start removes them.
    pub generated: Vec<PathBuf>,
}

impl Runtime {
    /// Opens the storage and refuses when the master key cannot open every stored secret.
    pub fn open(figment: &Figment) -> Result<Self, StartupError> {
        let storage = Storage::open(figment)?;
        let (stripe_keys, generated) = storage.load_master_key()?;
        storage.db.with_conn(|c| db::stripe::verify_master_key(c, &stripe_keys)).map_err(|e| {
            let detail = match e {
                error::Error::Internal(m) => m,
                other => other.to_string(),
            };
            StartupError::MasterKey(detail)
        })?;
        let Storage { config, db } = storage;
        Ok(Self { config, db, stripe_keys, generated: generated.into_iter().collect() })
    }

    /// The use cases' `App` on this runtime; `base_url` is where people reach the server.
    pub fn into_app(self, base_url: String) -> Result<App, StartupError> {
        let config = self.config;
        let stripe = StripeClient::new(&config.stripe_api_base, Duration::from_secs(config.stripe_timeout_secs))?;
        let metrics = Arc::new(Metrics::new());
        let importer = Importer::new(
            self.db.clone(),
            stripe.clone(),
            self.stripe_keys.clone(),
            config.import.clone(),
            Arc::clone(&metrics),
        );
        let geoip = match &config.geoip_database {
            Some(path) => {
                let geoip = GeoIp::open(path)?;
                tracing::info!(path = %path.display(), database_type = geoip.database_type(), "opened the GeoIP database");
                Some(Arc::new(geoip))
            }
            None => None,
        };
        Ok(App::new(self.db, config, base_url, self.stripe_keys, stripe, importer, metrics).with_geoip(geoip))
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

/// Counts and times every answer by method, matched route template and status (see `metrics`).
struct HttpMetrics(Arc<Metrics>);

/// When the request arrived (its request-local cache holds one).
struct Arrived(Instant);

#[rocket::async_trait]
impl Fairing for HttpMetrics {
    fn info(&self) -> Info {
        Info { name: "metrics", kind: Kind::Request | Kind::Response }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Arrived(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let arrived = req.local_cache(|| Arrived(Instant::now())).0;
        // The template, never the path: ids must not become labels. No route: one label for all.
        let route = req.route().map_or(metrics::UNMATCHED, |r| r.uri.path());
        self.0.request(req.method().as_str(), route, res.status().code, arrived.elapsed());
    }
}

/// The whole application from a figment (see `config::figment`); tests pass their own.
pub fn build(figment: Figment) -> Result<Rocket<Build>, StartupError> {
    let mut runtime = Runtime::open(&figment)?;
    let figment = match runtime.config.secret_key_hex(&figment)? {
        Some((secret, generated)) => {
            runtime.generated.extend(generated);
            figment.merge(("secret_key", secret))
        }
        None => figment,
    };
    let generated = GeneratedSecrets(runtime.generated.clone());
    let base_url = runtime.config.base_url(&figment);
    let limits = Arc::new(RateLimits::new(
        runtime.config.rate_limit_per_minute,
        runtime.config.auth_failure_limit_per_minute,
        runtime.config.event_limit_per_minute,
    ));
    let trusted_proxies = TrustedProxies::parse(&runtime.config.trusted_proxies).map_err(ConfigError::Invalid)?;
    let figment = figment.merge(("template_dir", web::assets::template_dir(&runtime.config.data_dir)));
    let app = runtime.into_app(base_url)?;
    let http_metrics = HttpMetrics(Arc::clone(&app.metrics));

    Ok(rocket::custom(figment)
        .attach(http_metrics)
        .manage(app)
        .manage(Arc::clone(&limits))
        .manage(trusted_proxies)
        .manage(generated)
        .attach(RequestIds)
        .attach(Shield::default().enable(Frame::Deny).enable(Referrer::SameOrigin).enable(NoSniff::Enable))
        .attach(web::assets::templates())
        .attach(RateLimitHeaders)
        .attach(AdHoc::on_liftoff("rate limit housekeeping", move |rocket| {
            Box::pin(async move {
                let shutdown = rocket.shutdown();
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(Duration::from_mins(1));
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
        .attach(wal_checkpoints())
        .attach(AdHoc::on_shutdown("final checkpoint", |rocket| {
            Box::pin(async move {
                if let Some(app) = rocket.state::<App>()
                    && let Err(e) = app.db.keep_wal_small(0).await
                {
                    tracing::warn!(error = %e, "the WAL could not be checkpointed at shutdown");
                }
            })
        }))
        .attach(AdHoc::on_liftoff("Stripe import schedule", |rocket| {
            Box::pin(async move {
                if let Some(app) = rocket.state::<App>() {
                    let shutdown = rocket.shutdown();
                    tokio::spawn(app.importer.clone().schedule(async move {
                        shutdown.await;
                    }));
                }
            })
        }))
        .attach(AdHoc::on_liftoff("scheduled backups", |rocket| {
            Box::pin(async move {
                if let Some(app) = rocket.state::<App>() {
                    let shutdown = rocket.shutdown();
                    tokio::spawn(service::backup::schedule(app.db.clone(), app.config.backup.clone(), async move {
                        shutdown.await;
                    }));
                }
            })
        }))
        .attach(event_retention())
        // Last, so that the setup link is the last thing printed at start.
        .attach(AdHoc::on_liftoff("start banner and setup link", |rocket| Box::pin(announce(rocket))))
        .mount("/api/v1/admin", api::admin_routes())
        .mount("/api/v1", api::v1_routes())
        .mount("/api", api::events::routes())
        .mount("/", web::routes())
        .mount("/", api::metrics::routes())
        .register("/api", api::catchers())
        .register("/", web::catchers()))
}

/// Every 2 seconds: a WAL checkpoint when the log has grown past its bound, and a sync of the WAL.
fn wal_checkpoints() -> AdHoc {
    AdHoc::on_liftoff("WAL checkpoints", |rocket| {
        Box::pin(async move {
            let Some(app) = rocket.state::<App>() else { return };
            let (db, shutdown) = (app.db.clone(), rocket.shutdown());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(2));
                tokio::pin!(shutdown);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {
                            if let Err(e) = db.keep_wal_small(db::WAL_CHECKPOINT_BYTES).await {
                                tracing::warn!(error = %e, "a WAL checkpoint failed");
                            }
                            // The tracking events committed unsynced since the last tick reach the disk.
                            if let Err(e) = db.sync_wal().await {
                                tracing::warn!(error = %e, "the WAL could not be synced");
                            }
                        }
                        () = &mut shutdown => break,
                    }
                }
            });
        })
    })
}

/// The hourly deletion of raw events older than `events_retention_days` (none when it is 0).
fn event_retention() -> AdHoc {
    AdHoc::on_liftoff("event retention", |rocket| {
        Box::pin(async move {
            if let Some(app) = rocket.state::<App>() {
                let shutdown = rocket.shutdown();
                let days = app.config.events_retention_days;
                tokio::spawn(service::tracking::schedule_retention(app.db.clone(), days, async move {
                    shutdown.await;
                }));
            }
        })
    })
}

/// The secret files `build` generated (a first run), which `serve` removes when the start fails.
struct GeneratedSecrets(Vec<PathBuf>);

/// Prints the start banner and, while no account exists, the setup link after it.
async fn announce(rocket: &Rocket<Orbit>) {
    let Some(app) = rocket.state::<App>() else { return };
    let setup_pending = match service::accounts::user_count(app).await {
        Ok(n) => n == 0,
        Err(e) => {
            tracing::error!(error = %e, "cannot count users for the setup link");
            false
        }
    };
    let config = rocket.config();
    let scheme = if config.tls_enabled() { "https" } else { "http" };
    let listening = format!("{scheme}://{}", std::net::SocketAddr::new(config.address, config.port));
    let data_dir = std::path::absolute(&app.config.data_dir).unwrap_or_else(|_| app.config.data_dir.clone());
    let banner = console::StartBanner {
        version: env!("CARGO_PKG_VERSION"),
        environment: app.config.environment.as_str(),
        listening: &listening,
        public_url: app.config.public_url.as_deref().filter(|url| url.trim_end_matches('/') != listening),
        data_dir: &data_dir,
        stripe_api_base: &app.config.stripe_api_base,
        setup_pending,
    };
    console::say(&banner.render());
    if setup_pending && let Err(e) = service::accounts::print_setup_link(app).await {
        tracing::error!(error = %e, "cannot print the setup link");
    }
}

/// Builds revlink and serves until it is shut down. The port is tried first, so that a second instance that
/// cannot have it stops before writing anything to its data directory; a start that still fails before
/// liftoff removes the secret files it generated, so it leaves no new secret behind.
pub async fn serve(figment: Figment) -> Result<(), String> {
    port_is_free(&figment)?;
    let rocket = build(figment).map_err(|e| e.to_string())?;
    launch_or_forget(rocket).await
}

/// Launches `rocket` (from `build`); when it fails before liftoff, deletes the secret files `build` generated.
pub async fn launch_or_forget(rocket: Rocket<Build>) -> Result<(), String> {
    let generated = rocket.state::<GeneratedSecrets>().map(|g| g.0.clone()).unwrap_or_default();
    let lifted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&lifted);
    let rocket = rocket.attach(AdHoc::on_liftoff("liftoff seen", move |_| {
        Box::pin(async move { flag.store(true, Ordering::SeqCst) })
    }));
    let Err(e) = rocket.launch().await else { return Ok(()) };
    let message = e.to_string();
    // Nothing was served, so nothing was sealed with a key generated now: it can go with the failed start.
    if !lifted.load(Ordering::SeqCst) {
        for path in &generated {
            match std::fs::remove_file(path) {
                Ok(()) => tracing::info!(path = %path.display(), "removed the secret this failed start generated"),
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not remove a generated secret"),
            }
        }
    }
    Err(message)
}

/// Fails when the configured address and port cannot be listened on (another server has them).
fn port_is_free(figment: &Figment) -> Result<(), String> {
    let (Ok(address), Ok(port)) =
        (figment.extract_inner::<std::net::IpAddr>("address"), figment.extract_inner::<u16>("port"))
    else {
        return Ok(()); // Rocket reports a bad address or port itself.
    };
    match std::net::TcpListener::bind((address, port)) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "cannot listen on {}: {e}. Is revlink (or something else) already running there? \
             Nothing was written to the data directory.",
            std::net::SocketAddr::new(address, port)
        )),
    }
}
