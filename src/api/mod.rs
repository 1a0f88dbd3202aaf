//! The JSON API under `/api/v1`: the success envelope, the error catchers, and each resource's routes;
//! also `/metrics` (`metrics`), which answers refusals with the same error envelope.

pub mod access_tokens;
pub mod apikeys;
pub mod body;
mod envelope;
pub mod integrations;
pub mod metrics;
pub mod openapi;
pub mod payments;
pub mod revenue;
pub mod team;
pub mod websites;

use rocket::serde::json::Json;
use rocket::{Route, get, routes};
use serde::Serialize;
use utoipa::ToSchema;

pub use envelope::catchers;

use crate::error::Error;

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
pub struct Health {
    #[schema(example = "ok")]
    pub health: &'static str,
    pub version: &'static str,
}

/// Liveness: no credential, no database.
#[utoipa::path(context_path = "/api/v1", tag = "meta", responses((status = 200, body = Success<Health>)))]
#[get("/health")]
pub fn health() -> ApiResult<Health> {
    one(Health { health: "ok", version: env!("CARGO_PKG_VERSION") })
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
    all
}

/// Routes mounted at `/api/v1`.
pub fn v1_routes() -> Vec<Route> {
    let mut all = routes![health, openapi::openapi_json];
    all.extend(payments::routes());
    all
}
