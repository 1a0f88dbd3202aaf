//! `/websites/{id}/integrations`: provider status, and Connect / Disconnect Stripe (contract §4).

use rocket::data::{self, Data, FromData};
use rocket::response::{Flash, Redirect, status};
use rocket::serde::json::Json;
use rocket::{Either, Request, Route, State, delete, get, post, routes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::{ApiResult, Message, Success, one};
use crate::auth::ExpectedCsrf;
use crate::auth::{SettingsRead, SettingsWrite, WebsiteAccess};
use crate::config::Environment;
use crate::db::stripe::{self as stripe_db, NewConnection, StripeStatus};
use crate::db::websites;
use crate::domain::ObjectId;
use crate::domain::stripe_key::{StripeMode, StripeRestrictedKey, TEST_KEY_IN_PRODUCTION};
use crate::error::{Error, data_failure};
use crate::state::AppState;
use crate::stripe::verify::verify;
use crate::web::forms::checked_fields;

pub fn routes() -> Vec<Route> {
    routes![get_integrations, get_stripe, connect_stripe, disconnect_stripe, sync_stripe]
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
    responses((status = 200, body = Success<Integrations>)))]
#[get("/websites/<website_id>/integrations")]
pub async fn get_integrations(
    website_id: &str,
    access: WebsiteAccess<SettingsRead>,
    state: &State<AppState>,
) -> ApiResult<Integrations> {
    let _ = website_id;
    let (stripe, currency) = state.db.run(move |c| stripe_db::status(c, &access.website_id)).await?;
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
    responses((status = 200, body = Success<StripeStatus>)))]
#[get("/websites/<website_id>/integrations/stripe")]
pub async fn get_stripe(
    website_id: &str,
    access: WebsiteAccess<SettingsRead>,
    state: &State<AppState>,
) -> ApiResult<StripeStatus> {
    let _ = website_id;
    let (stripe, _) = state.db.run(move |c| stripe_db::status(c, &access.website_id)).await?;
    one(stripe)
}

/// Starts a sync now (or right after the one under way); also retries a key Stripe refused.
#[utoipa::path(context_path = "/api/v1/admin", tag = "integrations", security(("bearer" = [])),
    responses((status = 202, body = Success<Message>), (status = 404, description = "Stripe is not connected")))]
#[post("/websites/<website_id>/integrations/stripe/sync")]
pub async fn sync_stripe(
    website_id: &str,
    access: WebsiteAccess<SettingsWrite>,
    state: &State<AppState>,
) -> Result<status::Accepted<Json<Success<Message>>>, Error> {
    let _ = website_id;
    start_sync(state, access.website_id).await?;
    Ok(status::Accepted(one(Message::new("Stripe sync started"))?))
}

/// Triggers the website's import; 404 when no key is connected.
pub async fn start_sync(state: &AppState, website: ObjectId) -> Result<(), Error> {
    let w = website.clone();
    let connected = state.db.run(move |c| Ok(crate::db::import::stored_key(c, &w)?.is_some())).await?;
    if !connected {
        return Err(Error::NotFound("Stripe is not connected".into()));
    }
    state.importer.trigger(website);
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectStripe {
    /// A restricted key, `rk_live_…` (or `rk_test_…` in development).
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
    request_body = ConnectStripe,
    responses((status = 200, body = Success<StripeConnected>),
        (status = 400, description = "malformed, test-in-production, rejected or under-permissioned key"),
        (status = 502, description = "Stripe failed"), (status = 503, description = "Stripe rate limited"),
        (status = 504, description = "Stripe timed out")))]
#[post("/websites/<website_id>/integrations/stripe", data = "<body>")]
pub async fn connect_stripe(
    website_id: &str,
    access: WebsiteAccess<SettingsWrite>,
    body: ConnectBody,
    state: &State<AppState>,
) -> Result<Either<Json<Success<StripeConnected>>, Flash<Redirect>>, Error> {
    match body {
        ConnectBody::Json(json) => {
            // §4 step 1: every way of not sending a string `stripeRak` answers the same.
            let input: ConnectStripe = json.parse().map_err(|_| Error::BadRequest(RAK_REQUIRED.into()))?;
            let connected = connect(state, access, &input.stripe_rak).await?;
            Ok(Either::Left(one(connected)?))
        }
        // The settings page without JavaScript: the same steps, answered with a redirect back.
        ConnectBody::Form(stripe_rak) => {
            let outcome = match stripe_rak {
                Some(raw) => connect(state, access, &raw).await.map(|c| format!("{} ({})", c.message, c.currency)),
                None => Err(Error::BadRequest(RAK_REQUIRED.into())),
            };
            Ok(Either::Right(crate::web::back(format!("/websites/{website_id}/integrations"), outcome)))
        }
    }
}

const RAK_REQUIRED: &str = "stripeRak is required";

/// Steps 2–9 of §4: parse, the production rule, verification, then the encrypted store.
async fn connect(state: &AppState, access: WebsiteAccess<SettingsWrite>, raw: &str) -> Result<StripeConnected, Error> {
    let key = StripeRestrictedKey::parse(raw).map_err(|m| Error::BadRequest(m.into()))?;
    if state.config.environment == Environment::Production && key.mode() == StripeMode::Test {
        return Err(Error::BadRequest(TEST_KEY_IN_PRODUCTION.into()));
    }
    let account = verify(&state.stripe, &key).await?;
    let website = access.website_id;
    let connection = NewConnection {
        sealed: state.master_key.seal(key.expose(), website.as_str().as_bytes()),
        livemode: account.livemode,
        display_key: key.masked(),
        currency: account.currency.unwrap_or_default(),
    };
    let actor = access.actor;
    let w = website.clone();
    let currency = state
        .db
        .run(move |c| {
            let mut connection = connection;
            if connection.currency.is_empty() {
                // A brand-new account may list no balance yet: keep the website's currency.
                connection.currency = websites::currency(c, &w)?;
            }
            stripe_db::connect(c, &w, &connection, &actor)?;
            Ok(connection.currency)
        })
        .await?;
    // The import starts over with the new key (it may be another account); connect answers at once.
    state.importer.restart(website);
    Ok(StripeConnected { message: "Stripe connected successfully", currency })
}

/// The connect body: JSON from API clients and scripts, or (from a logged-in browser without
/// JavaScript, its CSRF token checked) the settings page's form.
pub enum ConnectBody {
    Json(JsonBody),
    Form(Option<String>),
}

#[rocket::async_trait]
impl<'r> FromData<'r> for ConnectBody {
    type Error = Error;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, Error> {
        let browser_form =
            req.content_type().is_some_and(|ct| ct.is_form()) && req.local_cache(|| ExpectedCsrf(None)).0.is_some();
        if !browser_form {
            return JsonBody::from_data(req, data).await.map(ConnectBody::Json);
        }
        match checked_fields(req, data).await {
            Ok(body) => {
                let rak = form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "stripeRak")
                    .map(|(_, v)| v.into_owned());
                data::Outcome::Success(ConnectBody::Form(rak))
            }
            Err(e) => data_failure(req, e),
        }
    }
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "integrations", security(("bearer" = [])),
    responses((status = 200, body = Success<Message>), (status = 404, description = "Stripe is not connected")))]
#[delete("/websites/<website_id>/integrations/stripe")]
pub async fn disconnect_stripe(
    website_id: &str,
    access: WebsiteAccess<SettingsWrite>,
    state: &State<AppState>,
) -> ApiResult<Message> {
    let _ = website_id;
    one(Message::new(disconnect(state, access).await?))
}

/// Deletes the key and stops the website's import (API and settings page alike).
pub async fn disconnect(state: &AppState, access: WebsiteAccess<SettingsWrite>) -> Result<&'static str, Error> {
    let website = access.website_id.clone();
    let removed = state.db.run(move |c| stripe_db::disconnect(c, &access.website_id, &access.actor)).await?;
    state.importer.stop(&website);
    if !removed {
        return Err(Error::NotFound("Stripe is not connected".into()));
    }
    Ok("Stripe disconnected successfully")
}
