//! Who is calling: a presented secret or session cookie to its credential, and a user's role on a
//! website, each from the credential cache when it can be.

use std::sync::Arc;

use crate::db::{credentials, sessions, websites};
use crate::domain::account::SessionRecord;
use crate::domain::credentials::Caller;
use crate::domain::secret_token::{TokenKind, hash_secret};
use crate::domain::{ObjectId, Role};
use crate::error::Error;
use crate::service::App;

/// The token or key whose secret this is (recording its use), or `None` for an unknown secret.
pub async fn authenticate(app: &App, raw: &str) -> Result<Option<Arc<Caller>>, Error> {
    let Some(kind) = TokenKind::of(raw) else {
        return Ok(None);
    };
    let hash = hash_secret(raw);
    if let Some(hit) = app.auth_cache.caller(&hash) {
        return Ok(Some(hit));
    }
    let generation = app.auth_cache.caller_generation();
    let found = app
        .db
        .run(move |conn| {
            Ok(match kind {
                TokenKind::Account => credentials::find_token(conn, &hash)?
                    .map(|t| credentials::touch_token(conn, &t).map(|()| Caller::Token(t)))
                    .transpose()?,
                TokenKind::WebsiteKey => credentials::find_key(conn, &hash)?
                    .map(|k| credentials::touch_key(conn, &k).map(|()| Caller::WebsiteKey(k)))
                    .transpose()?,
            })
        })
        .await?
        .map(Arc::new);
    if let Some(caller) = &found {
        app.auth_cache.remember_caller(hash, Arc::clone(caller), generation);
    }
    Ok(found)
}

/// The live browser session behind a session cookie's value. (Sessions are not cached: ending one
/// takes effect at once.)
pub async fn session(app: &App, cookie_value: String) -> Result<Option<SessionRecord>, Error> {
    app.db.run(move |conn| sessions::find(conn, &cookie_value)).await
}

/// The user's role on the website, from the cache or the database (non-members are not cached).
pub async fn role_of(app: &App, website: &ObjectId, user: &ObjectId) -> Result<Option<Role>, Error> {
    if let Some(role) = app.auth_cache.role(website, user) {
        return Ok(Some(role));
    }
    let generation = app.auth_cache.role_generation();
    let (site, person) = (website.clone(), user.clone());
    let role = app.db.run(move |conn| websites::role_of(conn, &site, &person)).await?;
    if let Some(role) = role {
        app.auth_cache.remember_role(website.clone(), user.clone(), role, generation);
    }
    Ok(role)
}
