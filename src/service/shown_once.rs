//! Secrets a page shows once after a redirect (Post/Redirect/Get): a new API key, access token or invitation
//! link waits here, in memory only, for the one page view that follows its creation. It is kept under a random
//! id, bound to the browser session and the page that shows it, for a few minutes, and taken (removed) by the
//! first view: the id may travel in the redirect's URL, the secret never does, and a refresh finds it gone
//! instead of creating again.

use std::time::Duration;

use moka::sync::Cache;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::account::SessionRecord;
use crate::service::App;

/// Long enough for the redirect that follows the form post, short enough that nothing lingers.
const TTL: Duration = Duration::from_mins(5);
const CAPACITY: u64 = 10_000;

/// A secret to show once, with what names it on the page (a key's name, the invited address).
pub struct OnceSecret {
    pub label: String,
    pub value: SecretString,
}

impl OnceSecret {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self { label: label.into(), value: SecretString::from(value.into()) }
    }

    pub fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

#[derive(Clone)]
struct Kept {
    /// The session's CSRF token: random, one per session, and already in memory for every request of it.
    session: String,
    place: String,
    label: String,
    value: SecretString,
}

/// The secrets waiting for their one view (a private field of `App`).
pub struct ShownOnce(Cache<String, Kept>);

impl Default for ShownOnce {
    fn default() -> Self {
        Self(Cache::builder().time_to_live(TTL).max_capacity(CAPACITY).build())
    }
}

/// Keeps `secret` for the next view of `place` (a page's path) by this browser session; answers the id that
/// view names it by.
pub fn keep(app: &App, session: &SessionRecord, place: &str, secret: OnceSecret) -> String {
    let id = hex::encode(rand::random::<[u8; 16]>());
    let kept =
        Kept { session: session.csrf_token.clone(), place: place.to_owned(), label: secret.label, value: secret.value };
    app.shown_once.0.insert(id.clone(), kept);
    id
}

/// The secret kept under `id` for this session and page, removed as it is answered: `None` once it was shown
/// (or expired, or belongs to another session or page).
pub fn take(app: &App, session: &SessionRecord, place: &str, id: &str) -> Option<OnceSecret> {
    let ours = app.shown_once.0.get(id).is_some_and(|k| k.session == session.csrf_token && k.place == place);
    if !ours {
        return None;
    }
    // Of two views at once, only the one that removes it shows it.
    let kept = app.shown_once.0.remove(id)?;
    Some(OnceSecret { label: kept.label, value: kept.value })
}
