//! The Stripe integration: its status, connect (verify, then store the key sealed), disconnect, start a
//! sync, and the master key rotation of the stored keys.

use crate::crypto::StripeKeyBox;
use crate::db::stripe::{self as stripe_db, NewConnection};
use crate::db::{import, websites};
use crate::domain::integrations::StripeStatus;
use crate::domain::stripe_key::StripeRestrictedKey;
use crate::domain::{Actor, WebsiteId};
use crate::error::Error;
use crate::providers::stripe::verify::verify;
use crate::service::App;

pub const CONNECTED: &str = "Stripe connected successfully";
pub const DISCONNECTED: &str = "Stripe disconnected successfully";
pub const SYNC_STARTED: &str = "Stripe sync started";
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

/// Re-encrypts every stored key under `new`, in one transaction: how many, and the new key version.
pub async fn reseal_all(app: &App, new: StripeKeyBox) -> Result<(usize, i64), Error> {
    let old = app.stripe_keys.clone();
    app.db.run(move |c| stripe_db::rotate_master_key(c, &old, &new)).await
}
