//! `GET /metrics`: the Prometheus text of `service::metrics::scrape`, for a `Scraper` only. Anyone else
//! gets the 404 an unknown path gets (a page, or the envelope for a client that prefers JSON). Mounted at `/`,
//! outside the OpenAPI document.

use rocket::http::ContentType;
use rocket::{Route, State, get, routes};

use crate::auth::scraper::Scraper;
use crate::error::Error;
use crate::metrics::CONTENT_TYPE;
use crate::service::{self, App};

#[get("/metrics")]
pub async fn metrics(scraper: Result<Scraper, Error>, app: &State<App>) -> Result<(ContentType, String), Error> {
    scraper?;
    let body = service::metrics::scrape(app).await?;
    Ok((ContentType::parse_flexible(CONTENT_TYPE).unwrap_or(ContentType::Plain), body))
}

/// Routes mounted at `/`.
pub fn routes() -> Vec<Route> {
    routes![metrics]
}
