//! The JSON API under `/api/v1`: the success envelope, the error catchers, and each resource's routes.

pub mod access_tokens;
pub mod apikeys;
pub mod body;
pub mod integrations;
pub mod openapi;
pub mod payments;
pub mod revenue;
pub mod team;
pub mod websites;

use rocket::http::Status;
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{Catcher, Either, Request, Route, catch, catchers, get, routes};
use rocket_dyn_templates::Template;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, take_stashed};

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

/// Every failure Rocket itself produces (unknown route, unread body, guard refusals) becomes the
/// envelope; a guard's own error, left in the request, supplies the message.
#[catch(default)]
fn catcher(status: Status, req: &Request<'_>) -> Either<Error, Either<Template, Redirect>> {
    let err = take_stashed(req).unwrap_or_else(|| unstashed(status, req));
    if req.uri().path().starts_with("/api/") {
        return Either::Left(err);
    }
    Either::Right(crate::web::error_page(req, &err))
}

/// The error for a failure that left none (Rocket's own: no route, unread body).
fn unstashed(status: Status, req: &Request<'_>) -> Error {
    let message = match status.code {
        404 => format!("No route for {} {}", req.method(), req.uri().path()),
        code => format!("{} ({code})", body::default_message(status)),
    };
    match status.code {
        400 => Error::BadRequest(message),
        401 => Error::Unauthorized(crate::auth::MISSING_TOKEN),
        403 => Error::Forbidden(message),
        404 => Error::NotFound(message),
        413 => Error::PayloadTooLarge(message),
        415 => Error::UnsupportedMediaType(message),
        429 => Error::RateLimited { retry_after: 60 },
        code if code >= 500 => Error::Internal(format!("unhandled status {code} for {}", req.uri())),
        _ => Error::BadRequest(message),
    }
}

pub fn catchers() -> Vec<Catcher> {
    catchers![catcher]
}
