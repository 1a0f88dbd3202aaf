//! `POST /api/v1/webhooks/stripe/{websiteId}`: Stripe's deliveries of a website's events (optional; polling stays
//! the default). No bearer credential: the `Stripe-Signature` over the body's exact bytes is the authentication, so
//! the body is read raw, never re-serialized. Answered at once; what an event names is read in the background.

use rocket::data::{self, Data, FromData};
use rocket::request::Request;
use rocket::{Route, State, post, routes};

use crate::api::body::read_within_limit;
use crate::api::doc::{WebhookErrors, WebsitePath};
use crate::api::{ApiResult, Message, Success, one};
use crate::auth::webhooks::StripeDelivery;
use crate::domain::WebsiteId;
use crate::error::{Error, data_failure};
use crate::service::{self, App};

pub fn routes() -> Vec<Route> {
    routes![stripe_webhook]
}

/// A body's exact bytes, within the JSON limit (64 KiB unless `limits.json` says otherwise).
pub struct RawBody(Vec<u8>);

#[rocket::async_trait]
impl<'r> FromData<'r> for RawBody {
    type Error = Error;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, Error> {
        match read_within_limit(req, data).await {
            Ok(bytes) => data::Outcome::Success(Self(bytes)),
            Err(e) => data_failure(req, e),
        }
    }
}

/// Receives one Stripe event for the website. A verified event answers 200 at once (also when it was received
/// before, or is of a type revlink does not use); the charge, refund or dispute it names is then read again
/// through the Stripe API with the website's key (the event's own numbers are never used), and an invoice or
/// subscription event starts a sync.
#[utoipa::path(context_path = "/api/v1", tag = "webhooks",
    params(WebsitePath,
        ("Stripe-Signature" = String, Header, description = "t=<unix time>,v1=<hex HMAC-SHA256 of \"{t}.{body}\" with the endpoint's signing secret>[,v1=…]")),
    request_body(content = Object, content_type = "application/json",
        description = "A Stripe event, exactly as Stripe sent it (`{\"id\":\"evt_…\",\"object\":\"event\",\"type\":\"charge.succeeded\",\"data\":{\"object\":{…}},…}`)"),
    responses((status = 200, description = "received (or received before, or of an unused type: then nothing is done)", body = Success<Message>),
        WebhookErrors))]
#[post("/webhooks/stripe/<website_id>", data = "<body>")]
pub async fn stripe_webhook(
    website_id: Result<WebsiteId, Error>,
    delivery: StripeDelivery,
    body: RawBody,
    app: &State<App>,
) -> ApiResult<Message> {
    // No guard names the website here: a malformed id answers `Invalid websiteId` like everywhere else.
    let website_id = website_id?;
    let received = service::stripe_webhooks::receive(app, &website_id, delivery.signature.as_deref(), &body.0).await?;
    one(Message::new(received.message()))
}
