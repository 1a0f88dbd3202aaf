//! The Integrations page: Stripe's status and import progress, the reconciliation with Stripe's ledger ("Check
//! now"), the key form, disconnect and "Sync now".
//! With JavaScript the key form posts JSON to the API route; without, it posts here. Either way a refused key
//! shows the API's message with a hint line under it (`service::stripe::KeyHints`).

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{Route, State, get, post, routes};
use serde_json::{Value, json};

use crate::auth::csrf::CsrfForm;
use crate::auth::{SettingsRead, SettingsWrite};
use crate::config::Environment;
use crate::domain::WebsiteId;
use crate::domain::stripe_key::KEY_REQUIRED;
use crate::error::Error;
use crate::providers::stripe::verify::{REQUIRED_PERMISSIONS, create_key_url};
use crate::service::stripe::KeyHints;
use crate::service::{self, App};
use crate::web::ButtonForm;
use crate::web::revenue::money;
use crate::web::{PageResult, SitePage, back};

/// A refused connect comes back as an error flash: the message, then (after this separator) its hint. The flash
/// carries no key: the hint is chosen from the key's prefix before the redirect.
const HINT_SEPARATOR: char = '\n';

pub fn routes() -> Vec<Route> {
    routes![integrations, connect_stripe, confirm_disconnect, disconnect, sync_now, reconcile_now]
}

fn to_page(website_id: &WebsiteId) -> String {
    format!("/websites/{website_id}/integrations")
}

#[get("/websites/<website_id>/integrations")]
pub async fn integrations(website_id: WebsiteId, mut page: SitePage<'_, SettingsRead>, app: &State<App>) -> PageResult {
    let (stripe, currency) = service::stripe::status(app, &website_id).await?;
    let development = app.config.environment == Environment::Development;
    let permissions: Vec<Value> =
        REQUIRED_PERMISSIONS.iter().map(|(name, label)| json!({"name": name, "label": label})).collect();
    // A failed connect without JavaScript comes back as an error flash: show it next to the field.
    let field_error = match page.flash.take() {
        Some(f) if f.kind() == "error" => Some(f.message().to_owned()),
        other => {
            page.flash = other;
            None
        }
    };
    let (field_error, field_hint) = match field_error.as_deref().map(|m| m.split_once(HINT_SEPARATOR)) {
        Some(Some((message, hint))) => (Some(message.to_owned()), Some(hint.to_owned())),
        _ => (field_error, None),
    };
    let mismatches: Vec<Value> = stripe
        .reconciliation
        .iter()
        .flat_map(|r| &r.mismatches)
        .map(|m| {
            json!({"date": m.date, "field": m.field, "revlink": money(m.revlink, &m.currency),
                   "stripe": money(m.stripe, &m.currency)})
        })
        .collect();
    let extra = json!({
        "mismatches": mismatches,
        "reconcile_days": app.importer.reconcile_days(),
        "stripe": stripe,
        "currency": currency,
        "permissions": permissions,
        "create_key_url": create_key_url(development),
        "allow_test": development,
        "field_error": field_error,
        "field_hint": field_hint,
        "hints": KeyHints::of(app),
    });
    page.render(app, &website_id, "integrations.html", extra).await
}

#[derive(FromForm)]
pub struct ConnectForm {
    #[field(name = "stripeRak")]
    stripe_rak: Option<String>,
}

/// The key form without JavaScript: the same connect as the API route, answered with a redirect back.
#[post("/websites/<website_id>/integrations/stripe", data = "<form>")]
pub async fn connect_stripe(
    website_id: WebsiteId,
    page: SitePage<'_, SettingsWrite>,
    form: CsrfForm<ConnectForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let raw = form.0.stripe_rak;
    let outcome = match &raw {
        Some(raw) => service::stripe::connect(app, &website_id, raw, page.actor())
            .await
            .map(|currency| format!("{} ({currency})", service::stripe::CONNECTED)),
        None => Err(Error::BadRequest(KEY_REQUIRED.into())),
    };
    match outcome {
        Err(
            e @ (Error::BadRequest(_) | Error::BadGateway(_) | Error::GatewayTimeout(_) | Error::Unavailable { .. }),
        ) => {
            let message = match KeyHints::of(app).for_refusal(raw.as_deref().unwrap_or_default(), &e) {
                Some(hint) => format!("{e}{HINT_SEPARATOR}{hint}"),
                None => e.to_string(),
            };
            Flash::error(Redirect::to(to_page(&website_id)), message)
        }
        other => back(to_page(&website_id), other),
    }
}

#[get("/websites/<website_id>/integrations/stripe/disconnect")]
pub async fn confirm_disconnect(
    website_id: WebsiteId,
    page: SitePage<'_, SettingsWrite>,
    app: &State<App>,
) -> PageResult {
    page.render(app, &website_id, "disconnect.html", json!({})).await
}

#[post("/websites/<website_id>/integrations/stripe/disconnect", data = "<_form>")]
pub async fn disconnect(
    website_id: WebsiteId,
    page: SitePage<'_, SettingsWrite>,
    _form: CsrfForm<ButtonForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let outcome = service::stripe::disconnect(app, &website_id, page.actor())
        .await
        .map(|()| service::stripe::DISCONNECTED.to_owned());
    back(to_page(&website_id), outcome)
}

/// The reconciliation card's "Check now" button.
#[post("/websites/<website_id>/integrations/stripe/reconcile", data = "<_form>")]
pub async fn reconcile_now(
    website_id: WebsiteId,
    _page: SitePage<'_, SettingsWrite>,
    _form: CsrfForm<ButtonForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let outcome = service::stripe::start_reconcile(app, &website_id)
        .await
        .map(|()| service::stripe::RECONCILE_STARTED.to_owned());
    back(to_page(&website_id), outcome)
}

/// The "Sync now" / "Try again" button.
#[post("/websites/<website_id>/integrations/stripe/sync", data = "<_form>")]
pub async fn sync_now(
    website_id: WebsiteId,
    _page: SitePage<'_, SettingsWrite>,
    _form: CsrfForm<ButtonForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let outcome =
        service::stripe::start_sync(app, &website_id).await.map(|()| service::stripe::SYNC_STARTED.to_owned());
    back(to_page(&website_id), outcome)
}
