//! The Stripe integration: its status, connect (verify, then store the key sealed, with the webhook signing
//! secret when one is sent), disconnect, start a sync, and the master key rotation of the stored secrets.

use crate::crypto::StripeKeyBox;
use crate::db::stripe::{self as stripe_db, KeyAccount, NewConnection};
use crate::db::{import, websites};
use crate::domain::environment::Environment;
use crate::domain::integrations::{ImportStart, MissingPermission, StripeStatus};
use crate::domain::stripe_key::StripeRestrictedKey;
use crate::domain::{Actor, WebsiteId};
use crate::error::Error;
use crate::providers::stripe::account::reads_charge;
use crate::providers::stripe::permissions;
use crate::providers::stripe::verify::verify;
use crate::service::{App, stripe_webhooks};

pub const CONNECTED: &str = "Stripe connected successfully";
pub const DISCONNECTED: &str = "Stripe disconnected successfully";
pub const SYNC_STARTED: &str = "Stripe sync started";
pub const RECONCILE_STARTED: &str = "Stripe reconciliation started";
const NOT_CONNECTED: &str = "Stripe is not connected";

/// The connection (never the key, nor the webhook's secret) with its import and webhook, and the website's currency.
pub async fn status(app: &App, website: &WebsiteId) -> Result<(StripeStatus, String), Error> {
    let site = website.id().clone();
    let (mut stripe, currency) = app.db.run(move |c| stripe_db::status(c, &site)).await?;
    stripe.webhook.url = stripe_webhooks::url(app, website.id());
    Ok((stripe, currency))
}

/// What a connect came to.
#[derive(Debug)]
pub struct Connected {
    /// The currency the website now counts in (contract §4 step 8).
    pub currency: String,
    pub import: ImportStart,
    /// The optional permissions the key lacks, with what each would add.
    pub missing_optional: Vec<MissingPermission>,
}

/// What a page says, after the contract's message, about what a connect did to the import.
pub fn import_note(import: ImportStart) -> &'static str {
    match import {
        ImportStart::Started => "The import of your Stripe history starts now.",
        ImportStart::Continued => {
            "Same Stripe account as before: the import continues where it was, with the payments already imported."
        }
        ImportStart::StartedOver => {
            "Another Stripe account than before (or one revlink could not recognise): the import starts over. The \
             payments already imported stay, and none is counted twice."
        }
    }
}

/// Steps 2–9 of contract §4: parse (with the installation's test-key rule), verify with Stripe, then store the key
/// sealed; nothing is stored unless verification passes. A key of the same Stripe account as the import's (see
/// `providers::stripe::account`) keeps the import where it was; any other starts it over (it may be another
/// account). Answers at once; the import runs in the background.
pub async fn connect(app: &App, website: &WebsiteId, raw_key: &str, actor: Actor) -> Result<Connected, Error> {
    connect_with_webhook(app, website, raw_key, None, actor).await
}

/// `connect`, with the webhook signing secret sent beside the key (`None`: any stored one stays). A malformed
/// secret is refused after the key's own checks and before Stripe is asked anything; it is stored only with the key.
pub async fn connect_with_webhook(
    app: &App,
    website: &WebsiteId,
    raw_key: &str,
    raw_webhook_secret: Option<&str>,
    actor: Actor,
) -> Result<Connected, Error> {
    let key = StripeRestrictedKey::parse_for(raw_key, app.config.environment)
        .map_err(|message| Error::BadRequest(message.into()))?;
    let webhook_secret = stripe_webhooks::parse_secret(raw_webhook_secret)?
        .map(|secret| app.stripe_keys.webhook_secrets().seal(website.id(), secret.expose()));
    let verified = verify(&app.stripe, &key).await?;
    let site = website.id().clone();
    let (known_charge, begun) = app.db.run(move |c| stripe_db::import_account(c, &site)).await?;
    let same_account = match (&known_charge, &verified.newest_charge) {
        (None, _) => false,
        (Some(known), Some(newest)) if known == newest => true,
        (Some(known), _) => reads_charge(&app.stripe, &key, known).await == Some(true),
    };
    let import = match (same_account, begun) {
        (true, _) => ImportStart::Continued,
        (false, true) => ImportStart::StartedOver,
        (false, false) => ImportStart::Started,
    };
    let missing_optional = permissions::optional()
        .filter(|(_, o)| !verified.optional.get(o.feature))
        .map(|(p, o)| MissingPermission { permission: p.name, adds: o.adds })
        .collect();
    let connection = NewConnection {
        sealed: app.stripe_keys.seal(website, key.expose()),
        livemode: verified.livemode,
        display_key: key.masked(),
        currency: verified.currency.unwrap_or_default(),
    };
    let account = KeyAccount { optional: verified.optional, account_charge: verified.newest_charge, same_account };
    let site = website.id().clone();
    let currency = app
        .db
        .run(move |c| {
            let mut connection = connection;
            if connection.currency.is_empty() {
                // A brand-new account may list no balance yet: keep the website's currency.
                connection.currency = websites::currency(c, &site)?;
            }
            stripe_db::connect_account(c, &site, &connection, &account, webhook_secret.as_ref(), &actor)?;
            Ok(connection.currency)
        })
        .await?;
    tracing::info!(website = %website.id(), import = ?import, "Stripe key connected");
    app.importer.restart(website.id().clone());
    Ok(Connected { currency, import, missing_optional })
}

/// Deletes the key and stops the website's import at once (imported payments stay).
pub async fn disconnect(app: &App, website: &WebsiteId, actor: Actor) -> Result<(), Error> {
    let site = website.id().clone();
    let removed = app.db.run(move |c| stripe_db::disconnect(c, &site, &actor)).await?;
    app.importer.stop(website.id());
    if !removed {
        return Err(Error::NotFound(NOT_CONNECTED.into()));
    }
    Ok(())
}

/// Syncs now (or right after the sync under way); also retries a key Stripe refused.
pub async fn start_sync(app: &App, website: &WebsiteId) -> Result<(), Error> {
    let site = website.id().clone();
    let connected = app.db.run(move |c| Ok(import::stored_key(c, &site)?.is_some())).await?;
    if !connected {
        return Err(Error::NotFound(NOT_CONNECTED.into()));
    }
    app.importer.trigger(website.id().clone());
    Ok(())
}

/// Compares the website's last `reconcile_days` UTC days with Stripe's ledger now (right after the sync under way,
/// if one is); `GET …/integrations/stripe` shows the result once it is done.
pub async fn start_reconcile(app: &App, website: &WebsiteId) -> Result<(), Error> {
    if app.importer.reconcile_days() == 0 {
        return Err(Error::Conflict(
            "Reconciliation with Stripe is turned off on this server (reconcile_days = 0)".into(),
        ));
    }
    let site = website.id().clone();
    let connected = app.db.run(move |c| Ok(import::stored_key(c, &site)?.is_some())).await?;
    if !connected {
        return Err(Error::NotFound(NOT_CONNECTED.into()));
    }
    app.importer.reconcile(website.id().clone());
    Ok(())
}

/// The line a page shows under the contract's message when a key is refused, saying what the message cannot:
/// which kind of key was pasted, or which Stripe API could not be reached. Each is for one case (`for_refusal`);
/// a page with JavaScript gets them all at once and picks by the same rule.
#[derive(serde::Serialize)]
pub struct KeyHints {
    /// For an `sk_` key.
    pub secret: String,
    /// For a `pk_` key.
    pub publishable: String,
    /// For an `rk_test_` key when this installation runs in production (`None` otherwise).
    pub test_in_production: Option<String>,
    /// For no usable answer from Stripe (502, 504): the configured API base, never a key.
    pub unreachable: String,
}

impl KeyHints {
    pub fn of(app: &App) -> Self {
        let labels: Vec<&str> = permissions::required().map(|p| p.label).collect();
        let restricted =
            format!("Create a restricted key (rk_) with Read access to {} and paste that instead.", labels.join(", "));
        Self {
            secret: format!(
                "This is a secret key (sk_): it can change everything in your Stripe account, so revlink does not \
                 take it. {restricted}"
            ),
            publishable: format!(
                "This is a publishable key (pk_), the one web pages use: it cannot read payments. {restricted}"
            ),
            test_in_production: (app.config.environment == Environment::Production).then(|| {
                "This is a test-mode key, and this revlink runs in production, where only live payments count. In \
                 Stripe, switch Test mode off and create the restricted key there (it starts with rk_live_)."
                    .to_owned()
            }),
            unreachable: format!(
                "revlink got no usable answer from the Stripe API at {}. Check that this server can reach it \
                 (network, proxy, firewall) and the stripe_api_base setting, then try again.",
                api_base_shown(&app.config.stripe_api_base)
            ),
        }
    }

    /// The hint for a connect of `raw_key` refused with `error`, if one applies.
    pub fn for_refusal(&self, raw_key: &str, error: &Error) -> Option<String> {
        let key = raw_key.trim();
        match error {
            Error::BadGateway(_) | Error::GatewayTimeout(_) => Some(self.unreachable.clone()),
            Error::BadRequest(_) if key.starts_with("sk_") => Some(self.secret.clone()),
            Error::BadRequest(_) if key.starts_with("pk_") => Some(self.publishable.clone()),
            Error::BadRequest(_) if key.starts_with("rk_test_") => self.test_in_production.clone(),
            _ => None,
        }
    }
}

/// The API base as a page may name it: scheme, host, port and path; any credentials or query in the setting left
/// out.
fn api_base_shown(base: &str) -> String {
    match url::Url::parse(base) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.as_str().trim_end_matches('/').to_owned()
        }
        Err(_) => "the configured stripe_api_base".to_owned(),
    }
}

/// Re-encrypts every stored secret (Stripe keys, webhook signing secrets) under `new`, in one transaction: how many,
/// and the new key version.
pub async fn reseal_all(app: &App, new: StripeKeyBox) -> Result<(usize, i64), Error> {
    let old = app.stripe_keys.clone();
    app.db.run(move |c| stripe_db::rotate_master_key(c, &old, &new)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(production: bool) -> KeyHints {
        KeyHints {
            secret: "secret".into(),
            publishable: "publishable".into(),
            test_in_production: production.then(|| "test".to_owned()),
            unreachable: "unreachable".into(),
        }
    }

    #[test]
    fn a_hint_is_chosen_by_the_key_prefix_and_the_refusal() {
        let format = Error::BadRequest("Invalid key format (must start with rk_)".into());
        assert_eq!(hints(false).for_refusal("  sk_live_abc", &format).as_deref(), Some("secret"));
        assert_eq!(hints(false).for_refusal("pk_test_abc", &format).as_deref(), Some("publishable"));
        assert_eq!(hints(false).for_refusal("rk_test_abcdefghijkl", &format), None, "test keys are fine here");
        assert_eq!(hints(true).for_refusal("rk_test_abcdefghijkl", &format).as_deref(), Some("test"));
        assert_eq!(hints(true).for_refusal("rk_live_x", &format), None);
        let down = Error::BadGateway("Could not verify the key with Stripe; try again".into());
        assert_eq!(hints(false).for_refusal("rk_live_abcdefghijkl", &down).as_deref(), Some("unreachable"));
        let slow = Error::GatewayTimeout("Could not verify the key with Stripe; try again".into());
        assert_eq!(hints(false).for_refusal("sk_live_abc", &slow).as_deref(), Some("unreachable"));
    }

    #[test]
    fn the_api_base_is_named_without_credentials_or_query() {
        assert_eq!(api_base_shown("https://api.stripe.com"), "https://api.stripe.com");
        assert_eq!(
            api_base_shown("https://user:pw@proxy.example:8443/stripe/?token=x#f"),
            "https://proxy.example:8443/stripe"
        );
        assert_eq!(api_base_shown("not a url"), "the configured stripe_api_base");
    }
}
