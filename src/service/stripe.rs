//! The Stripe integration: its status, connect (verify, then store the key sealed), disconnect, start a
//! sync, and the master key rotation of the stored keys.

use crate::crypto::StripeKeyBox;
use crate::db::stripe::{self as stripe_db, NewConnection};
use crate::db::{import, websites};
use crate::domain::environment::Environment;
use crate::domain::integrations::StripeStatus;
use crate::domain::stripe_key::StripeRestrictedKey;
use crate::domain::{Actor, WebsiteId};
use crate::error::Error;
use crate::providers::stripe::verify::{REQUIRED_PERMISSIONS, verify};
use crate::service::App;

pub const CONNECTED: &str = "Stripe connected successfully";
pub const DISCONNECTED: &str = "Stripe disconnected successfully";
pub const SYNC_STARTED: &str = "Stripe sync started";
pub const RECONCILE_STARTED: &str = "Stripe reconciliation started";
const NOT_CONNECTED: &str = "Stripe is not connected";

/// The connection (never the key) with its import, and the website's currency.
pub async fn status(app: &App, website: &WebsiteId) -> Result<(StripeStatus, String), Error> {
    let site = website.id().clone();
    app.db.run(move |c| stripe_db::status(c, &site)).await
}

/// Steps 2–9 of contract §4: parse (with the installation's test-key rule), verify with Stripe, then
/// store the key sealed; nothing is stored unless verification passes. Answers the currency. The import
/// starts over with the new key (it may be another account); this answers at once.
pub async fn connect(app: &App, website: &WebsiteId, raw_key: &str, actor: Actor) -> Result<String, Error> {
    let key = StripeRestrictedKey::parse_for(raw_key, app.config.environment)
        .map_err(|message| Error::BadRequest(message.into()))?;
    let account = verify(&app.stripe, &key).await?;
    let connection = NewConnection {
        sealed: app.stripe_keys.seal(website, key.expose()),
        livemode: account.livemode,
        display_key: key.masked(),
        currency: account.currency.unwrap_or_default(),
    };
    let site = website.id().clone();
    let currency = app
        .db
        .run(move |c| {
            let mut connection = connection;
            if connection.currency.is_empty() {
                // A brand-new account may list no balance yet: keep the website's currency.
                connection.currency = websites::currency(c, &site)?;
            }
            stripe_db::connect(c, &site, &connection, &actor)?;
            Ok(connection.currency)
        })
        .await?;
    app.importer.restart(website.id().clone());
    Ok(currency)
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
        let labels: Vec<&str> = REQUIRED_PERMISSIONS.iter().map(|(_, label)| *label).collect();
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

/// Re-encrypts every stored key under `new`, in one transaction: how many, and the new key version.
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
