//! The JSON API under `/api/v1`: the success envelope, the error catchers, and each resource's routes;
//! also the tracking script's `/api/events` (`events`), Stripe's webhook deliveries (`webhooks`), and `/metrics`
//! (`metrics`), which answers refusals with the same error envelope.

pub mod access_tokens;
pub mod analytics;
pub mod apikeys;
pub mod body;
pub mod doc;
mod envelope;
pub mod events;
pub mod integrations;
pub mod metrics;
pub mod mrr;
pub mod openapi;
pub mod payments;
mod query;
pub mod revenue;
pub mod team;
pub mod webhooks;
pub mod websites;

use rocket::serde::json::Json;
use rocket::{Route, State, get, routes};
use serde::Serialize;
use utoipa::ToSchema;

pub use envelope::catchers;

use crate::error::Error;
use crate::service::App;

/// `{"status":"success","data":[...]}`: on admin routes `data` is always an array.
#[derive(Debug, Serialize, ToSchema)]
pub struct Success<T> {
    #[schema(example = "success")]
    pub status: &'static str,
    pub data: Vec<T>,
}

pub type ApiResult<T> = Result<Json<Success<T>>, Error>;

pub fn success<T>(data: Vec<T>) -> ApiResult<T> {
    Ok(Json(Success { status: "success", data }))
}

pub fn one<T>(item: T) -> ApiResult<T> {
    success(vec![item])
}

/// A `data` entry that only carries a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

impl Message {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    #[schema(example = "ok")]
    pub health: &'static str,
    pub version: &'static str,
    /// Size of the database file.
    pub db_bytes: u64,
    /// Size of its write-ahead log, kept small by background checkpoints.
    pub wal_bytes: u64,
}

/// Liveness and storage: no credential, no query (the sizes are the files').
#[utoipa::path(context_path = "/api/v1", tag = "meta", responses((status = 200, body = Success<Health>)))]
#[get("/health")]
pub fn health(app: &State<App>) -> ApiResult<Health> {
    let sizes = app.db.sizes();
    one(Health {
        health: "ok",
        version: env!("CARGO_PKG_VERSION"),
        db_bytes: sizes.db_bytes,
        wal_bytes: sizes.wal_bytes,
    })
}

/// Routes mounted at `/api/v1/admin`.
pub fn admin_routes() -> Vec<Route> {
    let mut all = Vec::new();
    all.extend(websites::routes());
    all.extend(access_tokens::routes());
    all.extend(apikeys::routes());
    all.extend(team::routes());
    all.extend(integrations::routes());
    all.extend(revenue::routes());
    all.extend(mrr::routes());
    all
}

/// Routes mounted at `/api/v1`.
pub fn v1_routes() -> Vec<Route> {
    let mut all = routes![health, openapi::openapi_json];
    all.extend(payments::routes());
    all.extend(analytics::routes());
    all.extend(webhooks::routes());
    all
}
