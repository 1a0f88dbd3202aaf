//! `df_` website keys: list, create, roll, delete. A rolled or deleted key is refused from the next
//! request on.

use crate::db::{credentials, websites};
use crate::domain::credentials::WebsiteKeyView;
use crate::domain::{Actor, ObjectId, WebsiteId};
use crate::error::Error;
use crate::service::App;

pub async fn list(app: &App, website: &WebsiteId) -> Result<Vec<WebsiteKeyView>, Error> {
    let site = website.id().clone();
    app.db.run(move |c| credentials::list_website_keys(c, &site)).await
}

/// Creates a key; its raw value is in the answer, once.
pub async fn create(
    app: &App,
    website: &WebsiteId,
    name: Option<String>,
    actor: Actor,
) -> Result<WebsiteKeyView, Error> {
    let site = website.id().clone();
    app.db
        .run(move |c| {
            if !websites::exists(c, &site)? {
                return Err(Error::NotFound(format!("No website with id {site}")));
            }
            credentials::create_website_key(c, &site, name.as_deref(), &actor)
        })
        .await
}

/// Gives the key a new secret (shown once in the answer); the old one stops working at once.
pub async fn roll(app: &App, website: &WebsiteId, key: ObjectId, actor: Actor) -> Result<WebsiteKeyView, Error> {
    let site = website.id().clone();
    let rolled = app.db.run(move |c| credentials::roll_website_key(c, &site, &key, &actor)).await?;
    app.auth_cache.forget_credentials();
    Ok(rolled)
}

pub async fn delete(app: &App, website: &WebsiteId, key: ObjectId, actor: Actor) -> Result<(), Error> {
    let site = website.id().clone();
    app.db.run(move |c| credentials::delete_website_key(c, &site, &key, &actor)).await?;
    app.auth_cache.forget_credentials();
    Ok(())
}
