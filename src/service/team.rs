//! A website's team: members, invitations (the owner's: sent, listed, sent again with a new link, withdrawn),
//! removals (the owner's), and the admin command's direct additions. A removed member loses access from the
//! next request on.

use crate::db::{team, users, websites};
use crate::domain::account::{User, parse_email};
use crate::domain::team::{Invitation, SentInvitation, TeamMember};
use crate::domain::{Actor, ObjectId, Role, WebsiteId};
use crate::error::Error;
use crate::service::App;

pub async fn list(app: &App, website: &WebsiteId) -> Result<Vec<TeamMember>, Error> {
    let site = website.id().clone();
    app.db.run(move |c| team::list(c, &site)).await
}

/// Records an invitation; its link (in the answer) joins the website, creating an account if needed.
pub async fn invite(
    app: &App,
    website: &WebsiteId,
    inviter: ObjectId,
    email: String,
    role: Role,
    actor: Actor,
) -> Result<Invitation, Error> {
    let (site, base_url) = (website.id().clone(), app.base_url.clone());
    app.db.run(move |c| team::invite(c, &site, &inviter, &email, role, &base_url, &actor)).await
}

/// The invitations not yet accepted (their links are not kept: only hashes are).
pub async fn invitations(app: &App, website: &WebsiteId) -> Result<Vec<SentInvitation>, Error> {
    let site = website.id().clone();
    app.db.run(move |c| team::list_invitations(c, &site)).await
}

/// A new link for an invitation (the old one stops working), valid for a new lifetime.
pub async fn renew_invitation(
    app: &App,
    website: &WebsiteId,
    invitation: ObjectId,
    actor: Actor,
) -> Result<Invitation, Error> {
    let (site, base_url) = (website.id().clone(), app.base_url.clone());
    app.db.run(move |c| team::renew_invitation(c, &site, &invitation, &base_url, &actor)).await
}

/// Withdraws an invitation: its link stops working. Answers the invited address.
pub async fn revoke_invitation(
    app: &App,
    website: &WebsiteId,
    invitation: ObjectId,
    actor: Actor,
) -> Result<String, Error> {
    let site = website.id().clone();
    app.db.run(move |c| team::revoke_invitation(c, &site, &invitation, &actor)).await
}

/// Removes a member (never the owner).
pub async fn remove(
    app: &App,
    website: &WebsiteId,
    owner: ObjectId,
    user: ObjectId,
    actor: Actor,
) -> Result<(), Error> {
    let site = website.id().clone();
    app.db.run(move |c| team::remove(c, &site, &owner, &user, &actor)).await?;
    app.auth_cache.forget_roles();
    Ok(())
}

/// Adds an existing user directly (the admin command).
pub async fn add_member(app: &App, website: ObjectId, email: &str, role: Role, actor: Actor) -> Result<User, Error> {
    let email = parse_email(email)?;
    let user = app
        .db
        .run(move |c| {
            if !websites::exists(c, &website)? {
                return Err(Error::NotFound(format!("No website with id {website}")));
            }
            let user = users::require_by_email(c, &email)?;
            team::add_member(c, &website, &user.id, role, &actor)?;
            Ok(user)
        })
        .await?;
    app.auth_cache.forget_roles();
    Ok(user)
}
