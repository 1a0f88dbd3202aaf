//! `dft_` account tokens: list, create (never beyond the reach of the credential creating it), revoke.

use crate::db::credentials;
use crate::domain::credentials::AccessTokenView;
use crate::domain::{Actor, ObjectId, PermissionSet};
use crate::error::Error;
use crate::service::App;

/// Who creates a token, and the reach a new token may not exceed: the creating credential's
/// permissions and website allowlist (`[]` = all the user's websites).
pub struct Creator {
    pub user: ObjectId,
    pub permissions: PermissionSet,
    pub websites: Vec<ObjectId>,
    pub actor: Actor,
}

impl Creator {
    /// A person acting for themselves (a browser session, an admin command): their whole reach.
    pub fn whole_account(user: ObjectId, actor: Actor) -> Self {
        Self { user, permissions: PermissionSet::all(), websites: Vec::new(), actor }
    }
}

/// What the new token is.
pub struct NewToken {
    pub name: Option<String>,
    pub permissions: PermissionSet,
    pub websites: Vec<ObjectId>,
}

pub async fn list(app: &App, user: ObjectId) -> Result<Vec<AccessTokenView>, Error> {
    app.db.run(move |c| credentials::list_access_tokens(c, &user)).await
}

/// Creates the token; its raw value is in the answer, once.
pub async fn create(app: &App, creator: Creator, new: NewToken) -> Result<AccessTokenView, Error> {
    if !creator.permissions.covers(&new.permissions) {
        return Err(Error::Forbidden("A token cannot grant permissions that the token creating it lacks".into()));
    }
    let reach = &creator.websites;
    if !reach.is_empty() && (new.websites.is_empty() || new.websites.iter().any(|w| !reach.contains(w))) {
        return Err(Error::Forbidden(
            "A token cannot reach websites outside the allowlist of the token creating it; list websiteIds within it"
                .into(),
        ));
    }
    app.db
        .run(move |c| {
            credentials::create_access_token(
                c,
                &creator.user,
                new.name.as_deref(),
                &new.permissions,
                &new.websites,
                &creator.actor,
            )
        })
        .await
}

/// Deletes one of the user's tokens; it is refused from the next request on.
pub async fn revoke(app: &App, user: ObjectId, token: ObjectId, actor: Actor) -> Result<(), Error> {
    app.db.run(move |c| credentials::delete_access_token(c, &user, &token, &actor)).await?;
    app.auth_cache.forget_credentials();
    Ok(())
}
