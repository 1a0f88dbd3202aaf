//! Who sent a tracking event (`POST /api/events`): counted against the per-address event limit, then its
//! address (for the excluded ranges, the cookieless hash and the GeoIP lookup; never stored), user agent, the country a trusted proxy named, and the
//! page's origin (for CORS).

use std::sync::Arc;

use rocket::Request;
use rocket::request::{FromRequest, Outcome};

use crate::auth::client::{ClientAddress, trusted_header};
use crate::auth::ratelimit::RateLimits;
use crate::error::{Error, guard_failure};
use crate::service::App;
use crate::service::events::Sender;

/// The sender of one event, within the per-address limit. Its country is the configured `country_header`'s
/// value, when a trusted proxy set it.
pub struct EventSender(pub Sender);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for EventSender {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let (Some(limits), Some(app)) = (req.rocket().state::<Arc<RateLimits>>(), req.rocket().state::<App>()) else {
            return guard_failure(req, Error::internal("the rate limits or the app are not managed"));
        };
        let address = ClientAddress::of(req);
        if let Err(exceeded) = limits.check_event(address) {
            return guard_failure(req, Error::RateLimited { retry_after: exceeded.retry_after });
        }
        let header = |name: &str| req.headers().get_one(name).map(str::to_owned);
        let country_header = app.config.country_header.as_deref();
        Outcome::Success(Self(Sender {
            address,
            user_agent: header("User-Agent").unwrap_or_default(),
            country: country_header.and_then(|name| trusted_header(req, name)).map(str::to_owned),
            origin: header("Origin"),
        }))
    }
}
