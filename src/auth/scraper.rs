//! Who may read `/metrics`: a request carrying the configured `metrics_token` as its bearer, or one whose
//! TCP peer is this machine and that no proxy forwarded. Anyone else is told there is no such route.

use std::net::IpAddr;

use rocket::Request;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};
use secrecy::ExposeSecret;

use crate::auth::guards::bearer;
use crate::crypto::constant_time_eq;
use crate::error::Error;
use crate::service::App;

/// Headers a reverse proxy adds. A loopback peer that sends one is a proxy on this machine relaying
/// someone else, so loopback alone does not let it in.
const FORWARDING_HEADERS: [&str; 3] = ["Forwarded", "X-Forwarded-For", "X-Real-IP"];

/// Proof that the caller may scrape. Refused, the guard fails with the 404 an unknown path gets
/// (take it as `Result<Scraper, Error>` and answer the error: the route is not advertised).
pub struct Scraper;

/// Whether `ip` is this machine: 127.0.0.0/8 or ::1, also as an IPv4-mapped IPv6 address (a dual-stack listener).
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

fn forwarded(req: &Request<'_>) -> bool {
    let configured = req.rocket().config().ip_header.as_ref().map(|h| h.as_str());
    FORWARDING_HEADERS.into_iter().chain(configured).any(|h| req.headers().contains(h))
}

fn allowed(req: &Request<'_>, app: &App) -> bool {
    if let (Some(expected), Some(sent)) = (&app.config.metrics_token, bearer(req)) {
        return constant_time_eq(expected.expose_secret().as_bytes(), sent.as_bytes());
    }
    // The socket's peer, never `client_ip()`, which believes a header.
    req.remote().is_some_and(|peer| is_loopback(peer.ip())) && !forwarded(req)
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Scraper {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match req.rocket().state::<App>() {
            Some(app) if allowed(req, app) => Outcome::Success(Scraper),
            Some(_) => {
                let unknown = Error::NotFound(format!("No route for {} {}", req.method(), req.uri().path()));
                Outcome::Error((Status::NotFound, unknown))
            }
            None => Outcome::Error((Status::InternalServerError, Error::internal("App is not managed"))),
        }
    }
}
