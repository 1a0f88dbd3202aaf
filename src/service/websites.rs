//! Websites: list, create, read, update, and delete (the last from the settings pages only).

use crate::db::websites;
use crate::domain::credentials::Caller;
use crate::domain::website::{CreatedWebsite, NewWebsite, WebsiteChanges, WebsiteView};
use crate::domain::{Actor, ObjectId, Permission, Role, WebsiteId};
use crate::error::Error;
use crate::service::App;

/// The websites a credential sees: a `df_` key its own (at member level); a token or session the
/// user's, within its allowlist.
pub async fn visible_to(app: &App, caller: &Caller) -> Result<Vec<WebsiteView>, Error> {
    if let Caller::WebsiteKey(key) = caller {
        let site = key.website_id.clone();
        return Ok(vec![app.db.run(move |c| websites::get(c, &site, Role::Member)).await?]);
    }
    let (user, permissions, allowlist) =
        caller.account().ok_or_else(|| Error::internal("an account caller without an account"))?;
    if !permissions.grants(Permission::WEBSITES_READ) {
        return Err(Error::Forbidden("This token lacks the websites:read permission".into()));
    }
    let (user, allow) = (user.clone(), allowlist.to_vec());
    app.db.run(move |c| websites::list_for_user(c, &user, &allow)).await
}

/// Every website the user is a member of.
pub async fn of_user(app: &App, user: ObjectId) -> Result<Vec<WebsiteView>, Error> {
    app.db.run(move |c| websites::list_for_user(c, &user, &[])).await
}

/// Creates the website with `owner` as its owner.
pub async fn create(app: &App, owner: ObjectId, new: NewWebsite, actor: Actor) -> Result<CreatedWebsite, Error> {
    app.db.run(move |c| websites::create(c, &owner, &new, &actor)).await
}

/// The website, as someone with `role` sees it.
pub async fn get(app: &App, website: &WebsiteId, role: Role) -> Result<WebsiteView, Error> {
    let site = website.id().clone();
    app.db.run(move |c| websites::get(c, &site, role)).await
}

/// Applies the changes and answers the website as it now is.
pub async fn update(
    app: &App,
    website: &WebsiteId,
    changes: WebsiteChanges,
    role: Role,
    actor: Actor,
) -> Result<WebsiteView, Error> {
    let nothing = changes.domain.is_none()
        && changes.name.is_none()
        && changes.timezone.is_none()
        && changes.currency.is_none()
        && changes.revenue_metric.is_none();
    if nothing {
        return Err(Error::BadRequest(
            "Nothing to update: send any of domain, name, timezone, currency, revenueMetric".into(),
        ));
    }
    let site = website.id().clone();
    let updated = app
        .db
        .run(move |c| {
            websites::update(c, &site, &changes, &actor)?;
            websites::get(c, &site, role)
        })
        .await;
    // Its domain may have changed: events check their hosts against the stored one from now on.
    app.sites.forget();
    updated
}

/// Deletes the website and everything of it, once its domain was typed again; answers the domain.
/// Its keys and memberships stop working at once.
pub async fn delete(app: &App, website: &WebsiteId, typed_domain: &str, actor: Actor) -> Result<String, Error> {
    let current = get(app, website, Role::Owner).await?;
    if !typed_domain.trim().eq_ignore_ascii_case(&current.domain) {
        return Err(Error::BadRequest(format!("Type {} exactly to delete this website", current.domain)));
    }
    let site = website.id().clone();
    app.db.run(move |c| websites::delete(c, &site, &actor)).await?;
    // Its website keys went with it; so do the cached ones, and the members' roles.
    app.auth_cache.forget_credentials();
    app.auth_cache.forget_roles();
    app.sites.forget();
    Ok(current.domain)
}
