//! Stripe webhooks (optional, near real time): the signing secret a merchant sets (sealed like the Stripe key,
//! never shown again), and each delivery: its signature checked as Stripe specifies, its event id recorded once,
//! then what it names handed to the import worker, so that Stripe gets its answer at once. Polling stays the
//! default and the safety net: an event lost or refused here is read by the next sync anyway.

use crate::db::stripe::{self as stripe_db};
use crate::db::stripe_webhooks;
use crate::domain::webhook_secret::{SECRET_REQUIRED, StripeWebhookSecret};
use crate::domain::{Actor, ObjectId, WebsiteId};
use crate::error::Error;
use crate::providers::stripe::webhook::{Action, Event, verify_signature};
use crate::service::App;

pub const SECRET_SAVED: &str = "Stripe webhook signing secret saved";
pub const SECRET_REMOVED: &str = "Stripe webhook signing secret removed";
const NOT_CONNECTED: &str = "Stripe is not connected";
const NO_SECRET: &str = "No Stripe webhook signing secret is set";
/// The answer to a delivery for a website without a secret, and alike for an id no website has (the endpoint is
/// public: it does not tell which websites exist).
pub const NOT_CONFIGURED: &str = "This website accepts no Stripe webhooks: no signing secret is set. Set the \
                                  endpoint's signing secret (whsec_...) on the website's Integrations page";

/// Where Stripe sends the website's events (from `public_url`, or where the server listens).
pub fn url(app: &App, website: &ObjectId) -> String {
    format!("{}/api/v1/webhooks/stripe/{website}", app.base_url.trim_end_matches('/'))
}

/// The secret as pasted (`None`: not sent), checked before anything is asked of Stripe or stored.
pub fn parse_secret(raw: Option<&str>) -> Result<Option<StripeWebhookSecret>, Error> {
    raw.map(StripeWebhookSecret::parse).transpose().map_err(|message| Error::BadRequest(message.into()))
}

/// Sets (or replaces) the website's signing secret; Stripe must be connected (a webhook reads through the key).
pub async fn set_secret(app: &App, website: &WebsiteId, raw: Option<&str>, actor: Actor) -> Result<(), Error> {
    let secret = parse_secret(raw)?.ok_or_else(|| Error::BadRequest(SECRET_REQUIRED.into()))?;
    let sealed = app.stripe_keys.webhook_secrets().seal(website.id(), secret.expose());
    let site = website.id().clone();
    let stored = app.db.run(move |c| stripe_db::set_webhook_secret(c, &site, &sealed, &actor)).await?;
    if !stored {
        return Err(Error::NotFound(NOT_CONNECTED.into()));
    }
    Ok(())
}

/// Deletes the website's signing secret: its endpoint accepts nothing from then on.
pub async fn remove_secret(app: &App, website: &WebsiteId, actor: Actor) -> Result<(), Error> {
    let site = website.id().clone();
    let removed = app.db.run(move |c| stripe_db::remove_webhook_secret(c, &site, &actor)).await?;
    if !removed {
        return Err(Error::NotFound(NO_SECRET.into()));
    }
    Ok(())
}

/// What became of a verified delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// What it names is being read again (or synced) in the background.
    Accepted,
    /// This event id was received before: nothing is done again.
    Duplicate,
    /// An event type revlink does not use.
    Ignored,
}

impl Received {
    pub fn message(self) -> &'static str {
        match self {
            Self::Accepted => "Event received",
            Self::Duplicate => "Event already received",
            Self::Ignored => "Event type not used by revlink; ignored",
        }
    }
}

/// One delivery to the website's endpoint: `signature` is the `Stripe-Signature` header, `payload` the body's exact
/// bytes. Anything unverified is refused (400) with nothing recorded or read.
pub async fn receive(
    app: &App,
    website: &WebsiteId,
    signature: Option<&str>,
    payload: &[u8],
) -> Result<Received, Error> {
    let site = website.id().clone();
    let sealed = app.db.run(move |c| stripe_db::webhook_secret(c, &site)).await?;
    let Some(sealed) = sealed else { return Err(Error::BadRequest(NOT_CONFIGURED.into())) };
    let secret = app
        .stripe_keys
        .webhook_secrets()
        .open(website.id(), &sealed)
        .map_err(|_| Error::internal("the master key cannot open a stored webhook signing secret"))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let verified = verify_signature(secrecy::ExposeSecret::expose_secret(&secret).as_bytes(), signature, payload, now);
    if let Err(refused) = verified {
        tracing::info!(website = %website.id(), reason = %refused, "a Stripe webhook delivery was refused");
        return Err(Error::BadRequest(refused.to_string()));
    }
    let event = Event::parse(payload).map_err(Error::BadRequest)?;
    let (site, id) = (website.id().clone(), event.id.clone());
    let first_time = app.db.write(move |tx| stripe_webhooks::record_event(tx, &site, &id, now)).await?;
    if !first_time {
        return Ok(Received::Duplicate);
    }
    let importer = &app.importer;
    match event.action() {
        Action::RereadCharge(charge) => importer.reread_charge(website.id().clone(), charge),
        Action::RereadChargeAndSync(charge) => {
            importer.reread_charge(website.id().clone(), charge);
            importer.trigger(website.id().clone());
        }
        Action::Sync => importer.trigger(website.id().clone()),
        Action::Ignore => {
            tracing::debug!(website = %website.id(), kind = event.kind, "a Stripe event of an unused type");
            return Ok(Received::Ignored);
        }
    }
    Ok(Received::Accepted)
}
