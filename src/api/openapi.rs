//! The OpenAPI 3 document of every route, generated from the handlers' annotations.

use std::sync::OnceLock;

use rocket::get;
use rocket::http::ContentType;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::doc::{
    BadGateway, BadRequest, Conflict, ErrorEnvelope, EventMalformed, EventTooLarge, Forbidden, ForeignHost,
    GatewayTimeout, InternalError, NotFound, PayloadTooLarge, ServiceUnavailable, TooManyDeliveries, TooManyEvents,
    TooManyRequests, Unauthorized, UnknownWebsite, UnsupportedMediaType, WebhookRefused,
};
use crate::api::{
    self, access_tokens, analytics, apikeys, events, integrations, mrr, payments, revenue, team, webhooks, websites,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // The crate declares no license; an empty one would only confuse generators.
        openapi.info.license = None;
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("dft_ account token or df_ website key"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "revlink", description = "DataFast-compatible Account API with Stripe revenue import, and the tracking script's event endpoint"),
    paths(
        api::health,
        openapi_json,
        websites::list_websites,
        websites::create_website,
        websites::get_website,
        websites::update_website,
        websites::delete_website,
        access_tokens::list_access_tokens,
        access_tokens::create_access_token,
        access_tokens::delete_access_token,
        apikeys::list_api_keys,
        apikeys::create_api_key,
        apikeys::roll_api_key,
        apikeys::delete_api_key,
        team::list_team,
        team::invite_member,
        team::remove_member,
        integrations::get_integrations,
        integrations::get_stripe,
        integrations::sync_stripe,
        integrations::reconcile_stripe,
        integrations::connect_stripe,
        integrations::disconnect_stripe,
        integrations::set_stripe_webhook,
        integrations::remove_stripe_webhook,
        payments::create_payment,
        payments::delete_payments,
        revenue::list_payments,
        revenue::get_revenue,
        mrr::get_mrr,
        analytics::overview,
        analytics::timeseries,
        analytics::realtime,
        analytics::metadata,
        analytics::referrers,
        analytics::campaigns,
        analytics::pages,
        analytics::countries,
        analytics::regions,
        analytics::cities,
        analytics::devices,
        analytics::browsers,
        analytics::operating_systems,
        analytics::hostnames,
        analytics::goals,
        analytics::visitor,
        analytics::create_goal,
        analytics::identify,
        events::ingest_event,
        events::event_preflight,
        webhooks::stripe_webhook,
    ),
    components(
        schemas(ErrorEnvelope, crate::domain::analytics::SeriesRow),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            TooManyRequests,
            InternalError,
            BadGateway,
            ServiceUnavailable,
            GatewayTimeout,
            EventMalformed,
            ForeignHost,
            UnknownWebsite,
            EventTooLarge,
            TooManyEvents,
            WebhookRefused,
            TooManyDeliveries
        )
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// This document, as JSON.
#[utoipa::path(context_path = "/api/v1", tag = "meta", responses((status = 200, description = "the OpenAPI 3 document")))]
#[get("/openapi.json")]
pub fn openapi_json() -> (ContentType, &'static str) {
    static DOC: OnceLock<String> = OnceLock::new();
    let doc = DOC.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_else(|_| "{}".into()));
    (ContentType::JSON, doc.as_str())
}
