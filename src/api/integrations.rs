//! `/websites/{id}/integrations`: provider status, Connect / Disconnect Stripe (contract §4), and the Stripe
//! webhook's signing secret (set with the key, or alone; never shown again).

use rocket::response::status;
use rocket::serde::json::Json;
use rocket::{Route, State, delete, get, post, put, routes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::{self, JsonBody};
use crate::api::doc::{Authenticated, Conflict, JsonBody as BodyErrors, StripeCall, WebsitePath, WebsiteScoped};
use crate::api::{ApiResult, Message, Success, one};
use crate::auth::{SettingsRead, SettingsWrite, WebsiteAccess};
use crate::domain::WebsiteId;
use crate::domain::integrations::{ImportStart, MissingPermission, StripeStatus};
use crate::domain::stripe_key::KEY_REQUIRED;
use crate::domain::webhook_secret::FIELD as WEBHOOK_SECRET_FIELD;
use crate::error::Error;
use crate::service::{self, App};

pub fn routes() -> Vec<Route> {
    routes![
        get_integrations,
        get_stripe,
        connect_stripe,
        disconnect_stripe,
        sync_stripe,
        reconcile_stripe,
        set_stripe_webhook,
        remove_stripe_webhook
    ]
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
    /// Optional: the signing secret of the webhook endpoint made in Stripe for this website, stored with the key
    /// (encrypted, never shown again). Absent, null or empty: any secret set before stays. Checked after the key's
    /// format and before Stripe is asked anything.
    #[schema(value_type = Option<String>, pattern = "^whsec_[A-Za-z0-9+/=_-]{8,250}$",
        example = "whsec_5fG8hJ2kL9mN3pQ7rS1tU4vW6xY0zA2b")]
    #[serde(default)]
    stripe_webhook_secret: Option<serde_json::Value>,
}

impl ConnectStripe {
    /// The secret sent, if any. A value that is not a string is passed on as its JSON text, so that it is refused
    /// with the secret's own message, after the key's checks (contract §4 keeps its order).
    fn webhook_secret(&self) -> Option<String> {
        match self.stripe_webhook_secret.as_ref()? {
            serde_json::Value::String(s) if s.trim().is_empty() => None,
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// The contract's `message` and `currency`, and (revlink, additive) what happened to the import and which optional
/// permissions the key lacks.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StripeConnected {
    message: &'static str,
    #[schema(example = "USD")]
    currency: String,
    /// `started` (no import before), `continued` (a key of the same Stripe account: imported payments and the
    /// import's position kept) or `started over` (another account, or one revlink could not recognise; imported
    /// payments stay, none is counted twice).
    import: ImportStart,
    /// Optional permissions the key lacks (the connect succeeds without them), and what each would add.
    missing_optional_permissions: Vec<MissingPermission>,
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
    let webhook_secret = input.webhook_secret();
    let connected = service::stripe::connect_with_webhook(
        app,
        &website_id,
        &input.stripe_rak,
        webhook_secret.as_deref(),
        access.actor,
    )
    .await?;
    one(StripeConnected {
        message: service::stripe::CONNECTED,
        currency: connected.currency,
        import: connected.import,
        missing_optional_permissions: connected.missing_optional,
    })
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

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // documentation: the handler reads the field itself, so that its messages name it
pub struct SetStripeWebhook {
    /// The signing secret of the webhook endpoint made in Stripe for this website (Developers → Webhooks → the
    /// endpoint → Signing secret). Stored encrypted; never shown again.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/=_-]{8,250}$", example = "whsec_5fG8hJ2kL9mN3pQ7rS1tU4vW6xY0zA2b")]
    stripe_webhook_secret: String,
}

/// The longest value read for the secret (`whsec_` and 250 characters) with room for surrounding whitespace.
const WEBHOOK_SECRET_READ_MAX: usize = 512;

/// Sets (or replaces) the webhook signing secret: revlink then accepts the events Stripe signs with it at
/// `POST /api/v1/webhooks/stripe/{websiteId}`. Stripe must be connected.
#[utoipa::path(context_path = "/api/v1/admin", tag = "integrations", security(("bearer" = [])),
    params(WebsitePath), request_body = SetStripeWebhook,
    // 400 also: a missing or malformed secret; 404 also: Stripe is not connected.
    responses((status = 200, description = "saved", body = Success<Message>), Authenticated, WebsiteScoped, BodyErrors))]
#[put("/websites/<website_id>/integrations/stripe/webhook", data = "<body>")]
pub async fn set_stripe_webhook(
    website_id: WebsiteId,
    access: WebsiteAccess<SettingsWrite>,
    body: JsonBody,
    app: &State<App>,
) -> ApiResult<Message> {
    // Read here rather than with `body::text`, so that surrounding whitespace (a pasted newline) is trimmed by the
    // secret's own rule, as a key's is.
    let raw = match body.object()?.remove(WEBHOOK_SECRET_FIELD) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if s.chars().count() > WEBHOOK_SECRET_READ_MAX => {
            return Err(Error::BadRequest(format!(
                "{WEBHOOK_SECRET_FIELD} must be at most {WEBHOOK_SECRET_READ_MAX} characters"
            )));
        }
        Some(serde_json::Value::String(s)) => Some(s).filter(|s| !s.trim().is_empty()),
        Some(other) => {
            let kind = body::kind(&other);
            return Err(Error::BadRequest(format!("{WEBHOOK_SECRET_FIELD} must be a string, not {kind}")));
        }
    };
    service::stripe_webhooks::set_secret(app, &website_id, raw.as_deref(), access.actor).await?;
    one(Message::new(service::stripe_webhooks::SECRET_SAVED))
}

/// Removes the webhook signing secret: the website's endpoint refuses every delivery from then on (polling goes on).
#[utoipa::path(context_path = "/api/v1/admin", tag = "integrations", security(("bearer" = [])),
    params(WebsitePath),
    responses((status = 200, description = "removed", body = Success<Message>), Authenticated,
        WebsiteScoped /* 404 also: no secret is set */))]
#[delete("/websites/<website_id>/integrations/stripe/webhook")]
pub async fn remove_stripe_webhook(
    website_id: WebsiteId,
    access: WebsiteAccess<SettingsWrite>,
    app: &State<App>,
) -> ApiResult<Message> {
    service::stripe_webhooks::remove_secret(app, &website_id, access.actor).await?;
    one(Message::new(service::stripe_webhooks::SECRET_REMOVED))
}
