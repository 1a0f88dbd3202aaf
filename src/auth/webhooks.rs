//! Who delivers a Stripe webhook (`POST /api/v1/webhooks/stripe/{websiteId}`): no credential (the signature over
//! the body is the authentication, checked by the service), counted per client address like tracking events, and
//! the `Stripe-Signature` header it came with.

use std::sync::Arc;

use rocket::Request;
use rocket::request::{FromRequest, Outcome};

use crate::auth::client::ClientAddress;
use crate::auth::ratelimit::{self, RateLimits};
use crate::error::{Error, guard_failure};

/// A delivery within the per-address limit, with its `Stripe-Signature` header (if any).
pub struct StripeDelivery {
    pub signature: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for StripeDelivery {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let Some(limits) = req.rocket().state::<Arc<RateLimits>>() else {
            return guard_failure(req, Error::internal("the rate limits are not managed"));
        };
        match limits.check_webhook(ClientAddress::of(req)) {
            Ok(window) => ratelimit::record(req, window),
            Err(exceeded) => {
                ratelimit::record(req, exceeded.window);
                return guard_failure(req, Error::RateLimited { retry_after: exceeded.retry_after });
            }
        }
        Outcome::Success(Self { signature: req.headers().get_one("Stripe-Signature").map(str::to_owned) })
    }
}
