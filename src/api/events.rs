//! `POST /api/events`, the tracking script's endpoint (contract §2), and its CORS preflight. Open to anyone:
//! the website is named by its tracking id and checked against the page's host. A success is HTTP 200
//! `{"status":"success"}` (the script treats anything else as a failure), also for a bot's event and for one the
//! website's settings exclude (an excluded IP range or path), which are not stored.

use std::collections::BTreeMap;

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::http::{Header, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use rocket::{Route, State, options, post, routes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::doc::{EventErrors, ForeignHost, InternalError, ServiceUnavailable};
use crate::auth::events::EventSender;
use crate::domain::event::EventInput;
use crate::error::{Error, data_failure};
use crate::service::App;
use crate::service::events::{self, Ingested};

pub fn routes() -> Vec<Route> {
    routes![ingest_event, event_preflight]
}

/// The largest event body, in bytes (contract §2).
const EVENT_BODY_LIMIT: u64 = 8 * 1024;

/// How long a browser may reuse a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "86400";

/// An event's bytes: JSON, or `text/plain` as `navigator.sendBeacon` sends it; at most 8 KiB.
pub struct EventBody(Vec<u8>);

#[rocket::async_trait]
impl<'r> FromData<'r> for EventBody {
    type Error = Error;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, Error> {
        if let Some(ct) = req.content_type().filter(|ct| !ct.is_json() && !ct.is_plain()) {
            let msg =
                format!("Unsupported content type {ct}; send the event as JSON with Content-Type: application/json");
            return data_failure(req, Error::UnsupportedMediaType(msg));
        }
        let bytes = match data.open(EVENT_BODY_LIMIT.bytes()).into_bytes().await {
            Ok(b) => b,
            Err(e) => return data_failure(req, Error::BadRequest(format!("Could not read the request body: {e}"))),
        };
        if !bytes.is_complete() {
            let msg = format!("The event body is larger than {EVENT_BODY_LIMIT} bytes (8 KiB)");
            return data_failure(req, Error::PayloadTooLarge(msg));
        }
        data::Outcome::Success(Self(bytes.into_inner()))
    }
}

/// `{"status":"success"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventAccepted {
    #[schema(example = "success")]
    status: &'static str,
}

/// An answer with `Access-Control-Allow-Origin` set to the page's origin, when it is one of the website's.
pub struct WithCors<R> {
    inner: R,
    allow_origin: Option<String>,
}

impl<'r, 'o: 'r, R: Responder<'r, 'o>> Responder<'r, 'o> for WithCors<R> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'o> {
        let mut res = self.inner.respond_to(req)?;
        // The answer depends on the Origin: caches must keep one per origin.
        res.set_header(Header::new("Vary", "Origin"));
        if let Some(origin) = self.allow_origin {
            res.set_header(Header::new("Access-Control-Allow-Origin", origin));
        }
        Ok(res)
    }
}

/// The body the script sends (documentation only: `EventInput::parse` reads it, so that each error names
/// its field).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct EventDoc {
    /// The website's tracking id, from the script's `data-website-id`.
    #[schema(example = "dfid_AbCdEfGh12345678", max_length = 128)]
    website_id: String,
    /// The script's `data-domain` (informative: the host of `href` is what is checked).
    domain: Option<String>,
    /// The page's URL (http or https); its host must be the website's domain, a subdomain of it or an
    /// allowed hostname.
    #[schema(example = "https://example.com/pricing?utm_source=newsletter", max_length = 2048)]
    href: String,
    /// `document.referrer`; null or absent for none.
    #[schema(example = "https://www.google.com/", max_length = 2048)]
    referrer: Option<String>,
    viewport: Option<ViewportDoc>,
    /// The `datafast_visitor_id` cookie; absent in cookieless mode, where the server derives one.
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9_.:-]+$")]
    visitor_id: Option<String>,
    /// The `datafast_session_id` cookie; absent: the visitor's session of the last 30 minutes, else a new one.
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9_.:-]+$")]
    session_id: Option<String>,
    /// Ad click ids by kind (`gclid`, `fbclid`...): the kinds are recorded, not the values.
    ad_click_ids: Option<BTreeMap<String, String>>,
    #[serde(rename = "type")]
    #[schema(inline)]
    kind: EventTypeDoc,
    /// `custom`: `eventName` (1 to 64 of `a-z0-9_-`, lower-cased) and at most 10 parameters (keys
    /// `^[a-z0-9_-]{1,32}$`, string values of at most 255 characters). `payment`: `email`, `stripe_session_id`,
    /// `polar_checkout_id`, `lemonsqueezy_order_id`. `identify`: `user_id` (required), `name`. `external_link`:
    /// `url`, `text`.
    #[schema(value_type = Option<Object>)]
    extra_data: Option<serde_json::Value>,
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ViewportDoc {
    width: u32,
    height: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventTypeDoc {
    Pageview,
    Custom,
    Payment,
    Identify,
    ExternalLink,
}

/// Records one event of the tracking script (a bot's, or one from an excluded IP range or on an excluded path of
/// the website, is answered the same and not stored).
#[utoipa::path(context_path = "/api", tag = "events",
    request_body = EventDoc,
    responses((status = 200, description = "accepted (or a bot's, or excluded by the website's settings: dropped)", body = EventAccepted,
        headers(("Access-Control-Allow-Origin" = String, description = "the request's Origin, when it is one of the website's hosts"))),
        EventErrors))]
#[post("/events", data = "<body>")]
pub async fn ingest_event(
    sender: EventSender,
    body: EventBody,
    app: &State<App>,
) -> Result<WithCors<Json<EventAccepted>>, Error> {
    let event = EventInput::parse(&body.0).map_err(Error::BadRequest)?;
    let allow_origin = match events::ingest(app, sender.0, event).await? {
        Ingested::Stored { allow_origin } | Ingested::Excluded { allow_origin } => allow_origin,
        Ingested::Bot => None,
    };
    Ok(WithCors { inner: Json(EventAccepted { status: "success" }), allow_origin })
}

/// The `Origin` header of a request, if any.
pub struct RequestOrigin(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestOrigin {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        request::Outcome::Success(Self(req.headers().get_one("Origin").map(str::to_owned)))
    }
}

/// 204 with the CORS headers that let a page of `origin` post events.
pub struct Preflight {
    allow_origin: Option<String>,
}

impl<'r> Responder<'r, 'static> for Preflight {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut res = Response::build();
        res.status(Status::NoContent)
            .header(Header::new("Allow", "OPTIONS, POST"))
            .header(Header::new("Vary", "Origin"));
        if let Some(origin) = self.allow_origin {
            res.header(Header::new("Access-Control-Allow-Origin", origin))
                .header(Header::new("Access-Control-Allow-Methods", "POST"))
                .header(Header::new("Access-Control-Allow-Headers", "Content-Type"))
                .header(Header::new("Access-Control-Max-Age", PREFLIGHT_MAX_AGE));
        }
        Ok(res.finalize())
    }
}

/// The CORS preflight of `POST /api/events`: allowed for an origin on any website's domain, subdomains or
/// allowed hostnames (a preflight names no website; the POST is checked against its own). Without an
/// `Origin` it only lists the methods.
#[utoipa::path(options, path = "/events", context_path = "/api", tag = "events",
    responses((status = 204, description = "the origin may post events",
        headers(("Access-Control-Allow-Origin" = String, description = "the request's Origin"),
            ("Access-Control-Allow-Methods" = String, description = "POST"),
            ("Access-Control-Allow-Headers" = String, description = "Content-Type"),
            ("Access-Control-Max-Age" = String, description = "seconds"))),
        (status = 403, response = ForeignHost), (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable)))]
#[options("/events")]
pub async fn event_preflight(origin: RequestOrigin, app: &State<App>) -> Result<Preflight, Error> {
    let Some(origin) = origin.0 else { return Ok(Preflight { allow_origin: None }) };
    match events::allowed_origin(app, &origin).await? {
        Some(allowed) => Ok(Preflight { allow_origin: Some(allowed) }),
        None => Err(Error::Forbidden(format!(
            "The origin {origin:?} is not on any website's domain, subdomains or allowed hostnames"
        ))),
    }
}
