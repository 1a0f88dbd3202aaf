//! `/websites/{id}/integrations`: provider status, and Connect / Disconnect Stripe (contract §4).

use rocket::response::status;
use rocket::serde::json::Json;
use rocket::{Route, State, delete, get, post, routes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::doc::{Authenticated, Conflict, JsonBody as BodyErrors, StripeCall, WebsitePath, WebsiteScoped};
use crate::api::{ApiResult, Message, Success, one};
use crate::auth::{SettingsRead, SettingsWrite, WebsiteAccess};
use crate::domain::WebsiteId;
use crate::domain::integrations::StripeStatus;
use crate::domain::stripe_key::KEY_REQUIRED;
use crate::error::Error;
use crate::service::{self, App};

pub fn routes() -> Vec<Route> {
    routes![get_integrations, get_stripe, connect_stripe, disconnect_stripe, sync_stripe, reconcile_stripe]
}

#[derive(Serialize, ToSchema)]
pub struct NotConnected {
    connected: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaddleStatus {
    connected: bool,
    key_expires_at: Option<String>,
}

/// Every provider's status; no secret ever appears here.
#[derive(Serialize, ToSchema)]
pub struct Integrations {
    stripe: StripeStatus,
    lemonsqueezy: NotConnected,
    polar: NotConnected,
    paddle: PaddleStatus,
    shopify: NotConnected,
    woocommerce: NotConnected,
    currency: String,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "integrations", security(("bearer" = [])),
    params(WebsitePath),
    responses((status = 200, description = "every provider's status", body = Success<Integrations>), Authenticated, WebsiteScoped))]
#[get("/websites/<website_id>/integrations")]
pub async fn get_integrations(
    website_id: WebsiteId,
    _access: WebsiteAccess<SettingsRead>,
    app: &State<App>,
) -> ApiResult<Integrations> {
    let (stripe, currency) = service::stripe::status(app, &website_id).await?;
    let off = || NotConnected { connected: false };
    one(Integrations {
        stripe,
        lemonsqueezy: off(),
        polar: off(),
        paddle: PaddleStatus { connected: false, key_expires_at: None },
        shopify: off(),
        woocommerce: off(),
        currency,
    })
}

/// The Stripe connection (never the key) and the state of its revenue import.
#[utoipa::path(context_path = "/api/v1/admin", tag = "integrations", security(("bearer" = [])),
    params(WebsitePath),
    responses((status = 200, description = "the Stripe connection", body = Success<StripeStatus>), Authenticated, WebsiteScoped))]
#[get("/websites/<website_id>/integrations/stripe")]
pub async fn get_stripe(
    website_id: WebsiteId,
    _access: WebsiteAccess<SettingsRead>,
    app: &State<App>,
) -> ApiResult<StripeStatus> {
    let (stripe, _) = service::stripe::status(app, &website_id).await?;
    one(stripe)
}

/// Starts a sync now (or right after the one under way); also retries a key Stripe refused.
#[utoipa::path(context_path = "/api/v1/admin", tag = "integrations", security(("bearer" = [])),
    params(WebsitePath),
    responses((status = 202, description = "started", body = Success<Message>), Authenticated,
        WebsiteScoped /* 404 also: Stripe is not connected */))]
#[post("/websites/<website_id>/integrations/stripe/sync")]
pub async fn sync_stripe(
    website_id: WebsiteId,
    _access: WebsiteAccess<SettingsWrite>,
    app: &State<App>,
) -> Result<status::Accepted<Json<Success<Message>>>, Error> {
    service::stripe::start_sync(app, &website_id).await?;
    Ok(status::Accepted(one(Message::new(service::stripe::SYNC_STARTED))?))
}

/// Compares revlink's gross, refunds and fees of each of the last `reconcile_days` UTC days with Stripe's balance
/// transactions now (right after the sync under way, if one is); days that differ are read from Stripe again and
/// compared again. `GET …/integrations/stripe` shows the result (`reconciliation`) once it is done.
#[utoipa::path(context_path = "/api/v1/admin", tag = "integrations", security(("bearer" = [])),
    params(WebsitePath),
    responses((status = 202, description = "started", body = Success<Message>), Authenticated,
        WebsiteScoped /* 404 also: Stripe is not connected; 409: reconcile_days = 0 turns it off */,
        (status = 409, response = Conflict)))]
#[post("/websites/<website_id>/integrations/stripe/reconcile")]
pub async fn reconcile_stripe(
    website_id: WebsiteId,
    _access: WebsiteAccess<SettingsWrite>,
    app: &State<App>,
) -> Result<status::Accepted<Json<Success<Message>>>, Error> {
    service::stripe::start_reconcile(app, &website_id).await?;
    Ok(status::Accepted(one(Message::new(service::stripe::RECONCILE_STARTED))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectStripe {
    /// A restricted key, `rk_live_…` (or `rk_test_…` in development).
    #[schema(pattern = "^rk_(live|test)_[A-Za-z0-9]{10,247}$", example = "rk_live_51NxQp2Cg7Yq1s8dZt4K9mLbA0vWe3")]
    stripe_rak: String,
}

#[derive(Serialize, ToSchema)]
pub struct StripeConnected {
    message: &'static str,
    #[schema(example = "USD")]
    currency: String,
}

/// Verifies the key with Stripe and stores it encrypted; nothing is stored unless verification passes.
#[utoipa::path(context_path = "/api/v1/admin", tag = "integrations", security(("bearer" = [])),
    params(WebsitePath), request_body = ConnectStripe,
    // 400 also: a malformed, test-in-production, rejected or under-permissioned key.
    responses((status = 200, description = "connected", body = Success<StripeConnected>), Authenticated, WebsiteScoped,
        BodyErrors, StripeCall))]
#[post("/websites/<website_id>/integrations/stripe", data = "<body>")]
pub async fn connect_stripe(
    website_id: WebsiteId,
    access: WebsiteAccess<SettingsWrite>,
    body: JsonBody,
    app: &State<App>,
) -> ApiResult<StripeConnected> {
    // §4 step 1: every way of not sending a string `stripeRak` answers the same message; `detail` says which
    // it was (where the JSON broke, the field missing or not a string).
    let input: ConnectStripe =
        body.parse().map_err(|e| Error::BadBody { message: KEY_REQUIRED.into(), detail: e.to_string() })?;
    let currency = service::stripe::connect(app, &website_id, &input.stripe_rak, access.actor).await?;
    one(StripeConnected { message: service::stripe::CONNECTED, currency })
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "integrations", security(("bearer" = [])),
    params(WebsitePath),
    responses((status = 200, description = "disconnected", body = Success<Message>), Authenticated,
        WebsiteScoped /* 404 also: Stripe is not connected */))]
#[delete("/websites/<website_id>/integrations/stripe")]
pub async fn disconnect_stripe(
    website_id: WebsiteId,
    access: WebsiteAccess<SettingsWrite>,
    app: &State<App>,
) -> ApiResult<Message> {
    service::stripe::disconnect(app, &website_id, access.actor).await?;
    one(Message::new(service::stripe::DISCONNECTED))
}
