//! What the OpenAPI document says about failures and ids, in one place: the error envelope (one
//! schema, `ErrorEnvelope`), one reusable response per error status (`components.responses`), and the
//! sets of them each kind of route can answer, which the handlers list in their `responses(...)`.
//! Also the path parameters that carry ids (24 lowercase hex characters).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Type};
use utoipa::{IntoParams, IntoResponses, ToResponse, ToSchema};

/// The pattern of every id: 24 lowercase hex characters (see `domain::ids`).
pub const ID_PATTERN: &str = "^[0-9a-f]{24}$";

/// `{"status":"error","error":{"code":<status>,"message":"..."}}`: the body of every failure.
#[derive(ToSchema)]
pub struct ErrorEnvelope {
    #[schema(inline)]
    pub status: ErrorStatus,
    #[schema(inline)]
    pub error: ErrorDetail,
}

/// Always `"error"`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ErrorStatus {
    Error,
}

#[derive(ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status, repeated.
    #[schema(minimum = 400, maximum = 599, example = 404)]
    pub code: u16,
    /// What went wrong, and what to do about it.
    pub message: String,
    /// (revlink) Where a route's `message` is fixed by the contract (connecting Stripe answers every unusable
    /// body with `stripeRak is required`): exactly what was wrong, such as where the JSON broke
    /// (`Request body is not valid JSON: expected value at line 1 column 14`). Absent elsewhere.
    #[schema(example = "Request body is not valid JSON: expected value at line 1 column 14")]
    pub detail: Option<String>,
}

/// A response whose body is the envelope, with these integer headers (name, what it says).
fn error_response(description: &str, headers: &[(&str, &str)]) -> RefOr<Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorEnvelope"))).build();
    let mut response = ResponseBuilder::new().description(description).content("application/json", content);
    for (name, what) in headers {
        let integer = ObjectBuilder::new().schema_type(Type::Integer);
        response = response.header(*name, HeaderBuilder::new().schema(Some(integer)).description(Some(*what)).build());
    }
    response.build().into()
}

const RETRY_AFTER: (&str, &str) = ("Retry-After", "seconds to wait before trying again");
const RATE_LIMIT: [(&str, &str); 4] = [
    RETRY_AFTER,
    ("X-RateLimit-Limit", "requests allowed per window"),
    ("X-RateLimit-Remaining", "requests left in this window"),
    ("X-RateLimit-Reset", "seconds until the window resets"),
];

macro_rules! error_responses {
    ($($name:ident => $description:literal $(, $headers:expr)?;)*) => {$(
        #[doc = $description]
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                let headers: &[(&str, &str)] = error_responses!(@headers $($headers)?);
                (stringify!($name), error_response($description, headers))
            }
        }
    )*};
    (@headers) => { &[] };
    (@headers $headers:expr) => { &$headers };
}

error_responses! {
    BadRequest => "The request is malformed: an invalid id, query parameter or body; the message says which";
    Unauthorized => "No credential, or one that is unknown or revoked";
    Forbidden => "The credential may not do this (permission, role, website allowlist, or a df_ key on an account route)";
    NotFound => "The website, or the object named in the path, query or body, does not exist or is not visible to this credential; on the Stripe routes also: Stripe is not connected";
    Conflict => "The change conflicts with what exists (a duplicate domain, member or invitation)";
    PayloadTooLarge => "The JSON body is larger than the limit (64 KiB)";
    UnsupportedMediaType => "The body is not sent as application/json";
    TooManyRequests => "Rate limited (per credential, or failed authentications per address)", RATE_LIMIT;
    InternalError => "An unexpected failure; the message names the request id to report";
    BadGateway => "Stripe failed or answered something unreadable; try again";
    ServiceUnavailable => "Storage is full or read-only (nothing was saved), or Stripe asked to slow down", [RETRY_AFTER];
    GatewayTimeout => "Stripe did not answer in time; try again";
    EventMalformed => "The event is malformed (not JSON, a field missing or of the wrong type); the message says which";
    ForeignHost => "The page (href) is not on the website's domain, one of its subdomains or allowed hostnames; for a preflight, the Origin is none of any website's";
    UnknownWebsite => "No website has this tracking id (websiteId)";
    EventTooLarge => "The event body is larger than 8 KiB";
    TooManyEvents => "Too many events from this client address (event_limit_per_minute)", [RETRY_AFTER];
    WebhookRefused => "Refused, nothing processed: the website has no webhook signing secret (answered alike for an id no website has), the Stripe-Signature header is missing or malformed, no v1 signature matches, its timestamp is more than 300 seconds from the server's time, or the signed payload is not a Stripe event; or the websiteId is malformed";
    TooManyDeliveries => "Too many webhook deliveries from this client address (event_limit_per_minute, counted apart from events)", RATE_LIMIT;
}

/// A reference to a response component.
fn refer<'r, R: ToResponse<'r>>() -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(R::response().0))
}

macro_rules! response_sets {
    ($($(#[$doc:meta])* $set:ident { $($status:literal => $response:ident),* $(,)? })*) => {$(
        $(#[$doc])*
        pub struct $set;

        impl IntoResponses for $set {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([$(($status.to_string(), refer::<$response>())),*])
            }
        }
    )*};
}

response_sets! {
    /// Every route that takes a credential: none or an unknown one, one that may not, too many
    /// requests, an internal failure, and storage that cannot record the credential's use.
    Authenticated { 401 => Unauthorized, 403 => Forbidden, 429 => TooManyRequests, 500 => InternalError, 503 => ServiceUnavailable }
    /// A route about one website (a `{website_id}` segment or the `websiteId` query): a malformed id
    /// is a 400, a website the caller cannot see a 404.
    WebsiteScoped { 400 => BadRequest, 404 => NotFound }
    /// A route that reads a JSON body: a body that does not parse or validate, one too large, one not JSON.
    JsonBody { 400 => BadRequest, 413 => PayloadTooLarge, 415 => UnsupportedMediaType }
    /// `POST /api/events`: the tracking script's endpoint, open to anyone, checked against the website.
    EventErrors { 400 => EventMalformed, 403 => ForeignHost, 404 => UnknownWebsite, 413 => EventTooLarge,
        415 => UnsupportedMediaType, 429 => TooManyEvents, 500 => InternalError, 503 => ServiceUnavailable }
    /// `POST /api/v1/webhooks/stripe/{website_id}`: Stripe's deliveries, authenticated by their signature.
    WebhookErrors { 400 => WebhookRefused, 413 => PayloadTooLarge, 429 => TooManyDeliveries, 500 => InternalError,
        503 => ServiceUnavailable }
    /// A route that asks Stripe (besides 503 in `Authenticated`, which also covers Stripe's rate limit).
    StripeCall { 502 => BadGateway, 503 => ServiceUnavailable, 504 => GatewayTimeout }
}

/// The `{website_id}` path segment.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebsitePath {
    /// The website's id.
    #[param(pattern = "^[0-9a-f]{24}$", example = "665f0b3c4d2e1a0012345678")]
    pub website_id: String,
}

/// `?websiteId=` of the Payments API.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebsiteQuery {
    /// The website: required with a `dft_` account token, optional with a `df_` key (which names its
    /// own website; another is a 403).
    #[param(pattern = "^[0-9a-f]{24}$", example = "665f0b3c4d2e1a0012345678")]
    #[serde(rename = "websiteId")]
    pub website_id: Option<String>,
}

/// A circulating ISO 4217 code (any case is accepted; the list is upper case).
pub struct CurrencyCode;

impl utoipa::PartialSchema for CurrencyCode {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(crate::domain::money::circulating_codes()))
            .examples(["USD"])
            .build()
            .into()
    }
}

impl ToSchema for CurrencyCode {}

/// An IANA time zone name, as `chrono-tz` knows them.
pub struct TimeZone;

impl utoipa::PartialSchema for TimeZone {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        let names = chrono_tz::TZ_VARIANTS.iter().copied().map(chrono_tz::Tz::name);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An IANA time zone name, e.g. `America/New_York`"))
            .enum_values(Some(names))
            .examples(["Europe/Berlin"])
            .build()
            .into()
    }
}

impl ToSchema for TimeZone {}

/// One permission of a token, or `*` for all of them.
pub struct PermissionName;

impl utoipa::PartialSchema for PermissionName {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        let names = std::iter::once("*").chain(crate::domain::access::PERMISSIONS);
        let description =
            "A permission (`*`: all); the list defaults to `[\"*\"]` and may not exceed the creating token's";
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
            .enum_values(Some(names))
            .build()
            .into()
    }
}

impl ToSchema for PermissionName {}

/// The role of an invitation: `viewer` (the default) or `member` (owners are not invited).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitedRole {
    Viewer,
    Member,
}

/// A payment's time: RFC 3339, between 1970 and 2099 and not in the future (a day of clock skew
/// aside); blank means now, as every blank string of the body means absent.
pub struct PaidAt;

impl utoipa::PartialSchema for PaidAt {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        let time = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)));
        let blank = ObjectBuilder::new().schema_type(Type::String).pattern(Some("^\\s*$"));
        let any = utoipa::openapi::schema::AnyOfBuilder::new()
            .item(time)
            .item(blank)
            .description(Some(
                "When it was paid (RFC 3339), between 1970 and 2099 and not in the future; absent or blank: now",
            ))
            .examples([serde_json::json!("2026-05-21T10:00:00Z")])
            .build();
        RefOr::T(utoipa::openapi::schema::Schema::AnyOf(any))
    }
}

impl ToSchema for PaidAt {}
