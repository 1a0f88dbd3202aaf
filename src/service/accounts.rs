//! People: first-run setup, signing in and out, passwords, invitations accepted, and the admin
//! command's users. Password hashing runs off the async threads.

use std::sync::{LazyLock, Mutex};

use crate::crypto;
use crate::db::{self, sessions, team, users, websites};
use crate::domain::account::{NewSession, User, parse_email};
use crate::domain::team::PendingInvitation;
use crate::domain::website::NewWebsite;
use crate::domain::{Actor, ObjectId};
use crate::error::Error;
use crate::service::App;

pub const WRONG_LOGIN: &str = "Wrong email or password";

/// The one-time codes of the first-run setup links printed so far (the newest last), while no user exists.
/// Printing a new link leaves the earlier ones working, so someone who asks for links cannot take away the
/// one the operator is about to open; only the last `SETUP_CODES_KEPT` are kept.
#[derive(Default)]
pub struct SetupGate(Mutex<Vec<String>>);

/// How many printed setup links work at once.
const SETUP_CODES_KEPT: usize = 5;

impl SetupGate {
    /// The code of the newest link printed, if any.
    pub fn code(&self) -> Option<String> {
        self.0.lock().ok().and_then(|g| g.last().cloned())
    }

    fn add(&self, code: String) {
        if let Ok(mut codes) = self.0.lock() {
            codes.push(code);
            let excess = codes.len().saturating_sub(SETUP_CODES_KEPT);
            codes.drain(..excess);
        }
    }

    fn close(&self) {
        if let Ok(mut codes) = self.0.lock() {
            codes.clear();
        }
    }

    /// Whether `code` is one of the offered ones (each compared in constant time).
    fn admits(&self, code: &str) -> bool {
        let codes = self.0.lock().map(|g| g.clone()).unwrap_or_default();
        codes
            .iter()
            .fold(false, |found, expected| crypto::constant_time_eq(expected.as_bytes(), code.as_bytes()) | found)
    }
}

pub async fn user_count(app: &App) -> Result<i64, Error> {
    app.db.run(|c| users::count(c)).await
}

/// While no user exists: a fresh one-time setup code.
pub async fn offer_setup(app: &App) -> Result<Option<String>, Error> {
    if user_count(app).await? > 0 {
        return Ok(None);
    }
    let code = hex::encode(rand::random::<[u8; 16]>());
    app.setup.add(code.clone());
    Ok(Some(code))
}

/// While no user exists: prints a link with a fresh setup code to the server's output (stdout: the terminal or
/// the journal), set apart from the log lines around it. Answers whether it printed one; the code itself is
/// never returned, so no caller can show it to anyone but the operator.
pub async fn print_setup_link(app: &App) -> Result<bool, Error> {
    let Some(code) = offer_setup(app).await? else { return Ok(false) };
    let rule = "-".repeat(72);
    let base = &app.base_url;
    let text = format!(
        "\n{rule}\nrevlink has no account yet. Open this link to set it up:\n\n    {base}/setup?code={code}\n\n\
         It works until the first account exists. Lost it? Open {base}/ and ask for a new one.\n{rule}\n"
    );
    // One write, so the lines stay together; a closed stdout is logged, never a panic.
    crate::console::say(&text);
    Ok(true)
}

fn setup_refused() -> Error {
    Error::Forbidden("This setup link is not valid. Use the link revlink printed when it started; it works until the first account exists.".into())
}

/// Checks a setup code; `Ok(false)` once revlink is set up (the page then sends people to log in).
pub async fn setup_open(app: &App, code: &str) -> Result<bool, Error> {
    if user_count(app).await? > 0 {
        return Ok(false);
    }
    if !app.setup.admits(code) {
        return Err(setup_refused());
    }
    Ok(true)
}

/// What first-run setup asks for, parsed.
pub struct NewOwner {
    pub email: String,
    pub name: Option<String>,
    pub password: String,
    pub website: NewWebsite,
}

/// Creates the owner and their first website together; answers both ids. A wrong code, or a
/// second setup, is refused; a bad password is a 400 that says why.
pub async fn set_up(app: &App, code: &str, owner: NewOwner) -> Result<(ObjectId, ObjectId), Error> {
    if !app.setup.admits(code) {
        return Err(setup_refused());
    }
    let hash = new_password_hash(owner.password.clone())
        .await?
        .map_err(|m| Error::BadRequest(format!("Invalid password: {m}")))?;
    let created = app
        .db
        .run(move |c| {
            db::in_transaction(c, |tx| {
                if users::count(tx)? > 0 {
                    return Err(Error::Conflict("revlink is already set up; log in instead".into()));
                }
                let user = users::create(tx, &owner.email, owner.name.as_deref(), Some(&hash))?;
                let site = websites::insert(tx, &user, &owner.website, &Actor::setup(&user))?;
                Ok((user, site.website_id))
            })
        })
        .await?;
    app.setup.close();
    Ok(created)
}

/// An argon2id hash, made off the async threads; `Err` says what is wrong with the password.
async fn new_password_hash(password: String) -> Result<Result<String, String>, Error> {
    tokio::task::spawn_blocking(move || crypto::hash_password(&password)).await.map_err(Error::internal)
}

/// The user whose password this is. An unknown address costs a hash too, so timing does not tell
/// which addresses have accounts.
pub async fn check_password(app: &App, email: String, password: String) -> Result<Option<ObjectId>, Error> {
    let found = app.db.run(move |c| users::credentials(c, &email)).await?;
    tokio::task::spawn_blocking(move || match found {
        Some((id, Some(hash))) => crypto::verify_password(&password, &hash).then_some(id),
        _ => {
            static DUMMY: LazyLock<String> =
                LazyLock::new(|| crypto::hash_password("no such account").unwrap_or_default());
            let _ = crypto::verify_password(&password, &DUMMY);
            None
        }
    })
    .await
    .map_err(Error::internal)
}

/// A new session for the user: the cookie value (for the browser only) and its CSRF token.
pub async fn start_session(app: &App, user: ObjectId) -> Result<NewSession, Error> {
    let lifetime = session_secs(app);
    app.db.run(move |c| sessions::create(c, &user, lifetime)).await
}

pub fn session_secs(app: &App) -> i64 {
    i64::from(app.config.session_hours) * 3600
}

/// Ends the session with this cookie value.
pub async fn end_session(app: &App, cookie_value: String) -> Result<(), Error> {
    app.db.run(move |c| sessions::delete(c, &cookie_value)).await
}

/// Changes the password (the current one is required when there is one) and ends the user's other
/// sessions. A wrong current password or a weak new one is a 400 that says so.
pub async fn change_password(
    app: &App,
    user: ObjectId,
    current: String,
    new: String,
    keep_cookie_value: String,
) -> Result<(), Error> {
    let lookup = user.clone();
    let existing = app.db.run(move |c| users::password_hash(c, &lookup)).await?;
    let checked = tokio::task::spawn_blocking(move || {
        if let Some(hash) = existing
            && !crypto::verify_password(&current, &hash)
        {
            return Err("The current password is wrong".to_owned());
        }
        crypto::hash_password(&new)
    })
    .await
    .map_err(Error::internal)?;
    let hash = checked.map_err(Error::BadRequest)?;
    app.db
        .run(move |c| {
            users::set_password(c, &user, &hash)?;
            sessions::delete_others(c, &user, &keep_cookie_value)
        })
        .await
}

fn invitation_gone() -> Error {
    Error::NotFound(
        "This invitation link is not valid any more: it was used, withdrawn, expired or mistyped. Ask for a new one."
            .into(),
    )
}

/// The pending invitation behind a link's secret, and whether its address already has an account.
pub async fn invitation(app: &App, token: &str) -> Result<(PendingInvitation, bool), Error> {
    let raw = token.to_owned();
    app.db
        .run(move |c| {
            let invite = team::find_invitation(c, &raw)?.ok_or_else(invitation_gone)?;
            let has_account = users::find_by_email(c, &invite.email)?.is_some();
            Ok((invite, has_account))
        })
        .await
}

/// How the invited person proves who they are.
pub enum Joining {
    /// Already logged in as the invited address.
    LoggedIn(ObjectId),
    /// The existing account's password.
    Password(String),
    /// A new account.
    NewAccount { name: Option<String>, password: String },
}

/// Joins the invited website; answers the user. A wrong password is a 401 with `WRONG_LOGIN`; a
/// weak new password a 400.
pub async fn accept_invitation(app: &App, invite: &PendingInvitation, joining: Joining) -> Result<ObjectId, Error> {
    let id = invite.id.clone();
    let user = match joining {
        Joining::LoggedIn(user) => user,
        Joining::Password(password) => {
            check_password(app, invite.email.clone(), password).await?.ok_or(Error::Unauthorized(WRONG_LOGIN))?
        }
        Joining::NewAccount { name, password } => {
            let hash =
                new_password_hash(password).await?.map_err(|m| Error::BadRequest(format!("Invalid password: {m}")))?;
            let email = invite.email.clone();
            // The account and its membership are written together, or neither is.
            let user = app
                .db
                .run(move |c| {
                    db::in_transaction(c, |tx| {
                        let user = users::create(tx, &email, name.as_deref(), Some(&hash))?;
                        team::accept_invitation(tx, &id, &user, &Actor::invitation(&id, &user))?;
                        Ok(user)
                    })
                })
                .await?;
            app.auth_cache.forget_roles();
            return Ok(user);
        }
    };
    let joining = user.clone();
    app.db
        .run(move |c| {
            db::in_transaction(c, |tx| team::accept_invitation(tx, &id, &joining, &Actor::invitation(&id, &joining)))
        })
        .await?;
    app.auth_cache.forget_roles();
    Ok(user)
}

/// A user for the admin command (with an argon2id hash of a password, or none).
pub async fn create_user(
    app: &App,
    email: &str,
    name: Option<String>,
    password_hash: Option<String>,
) -> Result<ObjectId, Error> {
    let email = parse_email(email)?;
    app.db.run(move |c| users::create(c, &email, name.as_deref(), password_hash.as_deref())).await
}

/// The user with this address (a 404 that names it if there is none).
pub async fn user_by_email(app: &App, email: &str) -> Result<User, Error> {
    let email = parse_email(email)?;
    app.db.run(move |c| users::require_by_email(c, &email)).await
}
