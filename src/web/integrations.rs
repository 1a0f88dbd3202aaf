//! The Integrations page: Stripe's status and import progress, the reconciliation with Stripe's ledger ("Check
//! now"), the key form, disconnect and "Sync now", and the optional webhook (its URL, the events to select, the
//! signing secret's small form).
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
use crate::domain::integrations::ImportStart;
use crate::domain::stripe_key::KEY_REQUIRED;
use crate::error::Error;
use crate::providers::stripe::permissions::{self, create_key_url};
use crate::providers::stripe::webhook::EVENTS as WEBHOOK_EVENTS;
use crate::service::stripe::{KeyHints, import_note};
use crate::service::{self, App};
use crate::web::ButtonForm;
use crate::web::revenue::money;
use crate::web::{PageResult, SitePage, back};

/// A refused connect comes back as an error flash: the message, then (after this separator) its hint. The flash
/// carries no key: the hint is chosen from the key's prefix before the redirect.
const HINT_SEPARATOR: char = '\n';

/// The flash kind of a refused webhook secret: shown next to its own field, not the key's.
const WEBHOOK_ERROR: &str = "webhook-error";

pub fn routes() -> Vec<Route> {
    routes![
        integrations,
        connect_stripe,
        confirm_disconnect,
        disconnect,
        sync_now,
        reconcile_now,
        set_webhook_secret,
        remove_webhook_secret
    ]
}

fn to_page(website_id: &WebsiteId) -> String {
    format!("/websites/{website_id}/integrations")
}

#[get("/websites/<website_id>/integrations")]
pub async fn integrations(website_id: WebsiteId, mut page: SitePage<'_, SettingsRead>, app: &State<App>) -> PageResult {
    let (stripe, currency) = service::stripe::status(app, &website_id).await?;
    let development = app.config.environment == Environment::Development;
    let permissions: Vec<Value> = permissions::PERMISSIONS
        .iter()
        .map(|p| json!({"name": p.name, "label": p.label, "adds": p.optional.map(|o| o.adds)}))
        .collect();
    // The optional permissions the connected key lacks: a card says what each would add.
    let missing_optional: Vec<Value> = permissions::optional()
        .filter(|(_, o)| stripe.connected && !stripe.optional_permissions.get(o.feature))
        .map(|(p, o)| json!({"name": p.name, "label": p.label, "adds": o.adds}))
        .collect();
    let import_notes = json!({
        "started": import_note(ImportStart::Started),
        "continued": import_note(ImportStart::Continued),
        "started_over": import_note(ImportStart::StartedOver),
    });
    // A failed connect without JavaScript comes back as an error flash, a refused webhook secret as its own kind:
    // each is shown next to its field.
    let (field_error, webhook_error) = match page.flash.take() {
        Some(f) if f.kind() == "error" => (Some(f.message().to_owned()), None),
        Some(f) if f.kind() == WEBHOOK_ERROR => (None, Some(f.message().to_owned())),
        other => {
            page.flash = other;
            (None, None)
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
        "missing_optional": missing_optional,
        "import_notes": import_notes,
        "create_key_url": create_key_url(development),
        "allow_test": development,
        "field_error": field_error,
        "field_hint": field_hint,
        "hints": KeyHints::of(app),
        "webhook_events": WEBHOOK_EVENTS,
        "webhook_error": webhook_error,
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
            .map(|c| format!("{} ({}). {}", service::stripe::CONNECTED, c.currency, import_note(c.import))),
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

#[derive(FromForm)]
pub struct WebhookSecretForm {
    #[field(name = "stripeWebhookSecret")]
    stripe_webhook_secret: Option<String>,
}

/// The webhook's small form: sets (or replaces) the signing secret. A refusal comes back next to its field.
#[post("/websites/<website_id>/integrations/stripe/webhook", data = "<form>")]
pub async fn set_webhook_secret(
    website_id: WebsiteId,
    page: SitePage<'_, SettingsWrite>,
    form: CsrfForm<WebhookSecretForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let raw = form.0.stripe_webhook_secret.filter(|s| !s.trim().is_empty());
    match service::stripe_webhooks::set_secret(app, &website_id, raw.as_deref(), page.actor()).await {
        Err(e @ (Error::BadRequest(_) | Error::NotFound(_))) => {
            Flash::new(Redirect::to(to_page(&website_id)), WEBHOOK_ERROR, e.to_string())
        }
        outcome => back(to_page(&website_id), outcome.map(|()| service::stripe_webhooks::SECRET_SAVED.to_owned())),
    }
}

/// "Remove secret": the webhook endpoint refuses every delivery from then on.
#[post("/websites/<website_id>/integrations/stripe/webhook/remove", data = "<_form>")]
pub async fn remove_webhook_secret(
    website_id: WebsiteId,
    page: SitePage<'_, SettingsWrite>,
    _form: CsrfForm<ButtonForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let outcome = service::stripe_webhooks::remove_secret(app, &website_id, page.actor())
        .await
        .map(|()| service::stripe_webhooks::SECRET_REMOVED.to_owned());
    back(to_page(&website_id), outcome)
}
