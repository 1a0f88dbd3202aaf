//! First-run setup, login, logout and invitation links: the pages that create sessions.

use std::net::{IpAddr, Ipv4Addr};

use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar};
use rocket::request::FlashMessage;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{Flash, Redirect};
use rocket::time::Duration;
use rocket::{Either, Route, State, get, post, routes, uri};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::auth::{Caller, SESSION_COOKIE, constant_time_eq};
use crate::crypto;
use crate::db::audit::Actor;
use crate::db::{self, sessions, team, users, websites};
use crate::domain::ObjectId;
use crate::domain::website::{parse_domain, parse_name, parse_timezone};
use crate::error::{Error, guard_failure};
use crate::state::AppState;
use crate::web::forms::CsrfForm;
use crate::web::{Browser, page, render};

/// Refuses a form post that a browser says came from another site (`Sec-Fetch-Site: cross-site`).
/// The forms that work without a session (login, setup, invitation) have no CSRF token to check,
/// and this keeps another site from logging a visitor into an account of its choosing.
pub struct SameSite;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SameSite {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match req.headers().get_one("Sec-Fetch-Site") {
            Some("cross-site") => {
                guard_failure(req, Error::Forbidden("This form was sent from another website".into()))
            }
            _ => Outcome::Success(SameSite),
        }
    }
}

pub fn routes() -> Vec<Route> {
    routes![login_page, login, logout, setup_page, setup, invite_page, accept_invite]
}

/// `/`: the websites for a logged-in browser, else the login page (or setup on a fresh install).
#[get("/")]
pub async fn home(caller: Option<&Caller>, state: &State<AppState>) -> Redirect {
    if matches!(caller, Some(Caller::Session(_))) {
        return Redirect::to("/websites");
    }
    let fresh = state.db.run(|c| users::count(c)).await.map(|n| n == 0).unwrap_or(false);
    Redirect::to(if fresh { "/setup" } else { "/login" })
}

/// Starts a session for `user` and sets its private cookie.
async fn start_session(state: &AppState, jar: &CookieJar<'_>, user: ObjectId) -> Result<(), Error> {
    let lifetime = i64::from(state.config.session_hours) * 3600;
    let session = state.db.run(move |c| sessions::create(c, &user, lifetime)).await?;
    let cookie = Cookie::build((SESSION_COOKIE, session.cookie_value))
        .http_only(true)
        .same_site(rocket::http::SameSite::Lax)
        .secure(state.base_url.starts_with("https://"))
        .max_age(Duration::seconds(lifetime))
        .path("/");
    jar.add_private(cookie);
    Ok(())
}

/// Only local paths are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/websites".to_owned(),
    }
}

#[get("/login?<next>")]
pub fn login_page(next: Option<&str>, flash: Option<FlashMessage<'_>>) -> Template {
    render("login.html", page(None, flash.as_ref(), json!({"next": safe_next(next), "email": ""})))
}

/// The user whose password this is. Hashing runs off the async threads; an unknown address costs
/// a hash too, so timing does not tell which addresses have accounts.
async fn verify_login(state: &AppState, email: String, password: String) -> Result<Option<ObjectId>, Error> {
    let found = state.db.run(move |c| users::credentials(c, &email)).await?;
    tokio::task::spawn_blocking(move || match found {
        Some((id, Some(hash))) => crypto::verify_password(&password, &hash).then_some(id),
        _ => {
            static DUMMY: std::sync::LazyLock<String> =
                std::sync::LazyLock::new(|| crypto::hash_password("no such account").unwrap_or_default());
            let _ = crypto::verify_password(&password, &DUMMY);
            None
        }
    })
    .await
    .map_err(Error::internal)
}

/// An argon2id hash, made off the async threads; `Err` says what is wrong with the password.
async fn new_password_hash(password: String) -> Result<Result<String, String>, Error> {
    tokio::task::spawn_blocking(move || crypto::hash_password(&password)).await.map_err(Error::internal)
}

#[derive(FromForm)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

const WRONG_LOGIN: &str = "Wrong email or password";

#[post("/login", data = "<form>")]
pub async fn login(
    _origin: SameSite,
    form: Form<LoginForm>,
    jar: &CookieJar<'_>,
    ip: Option<IpAddr>,
    state: &State<AppState>,
) -> Result<Redirect, Template> {
    let form = form.into_inner();
    let email = form.email.trim().to_lowercase();
    let again = |message: String| {
        render(
            "login.html",
            page(None, None, json!({"next": safe_next(form.next.as_deref()), "email": email, "error": message})),
        )
    };
    if let Err(exceeded) = state.limits.check_login_attempt(ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), &email) {
        return Err(again(format!("Too many sign-in attempts; try again in {} seconds", exceeded.retry_after)));
    }
    let user = verify_login(state, email.clone(), form.password).await.map_err(|e| again(e.to_string()))?;
    let Some(user) = user else { return Err(again(WRONG_LOGIN.into())) };
    start_session(state, jar, user).await.map_err(|e| again(e.to_string()))?;
    Ok(Redirect::to(safe_next(form.next.as_deref())))
}

/// A form with nothing but its CSRF token (a button).
#[derive(FromForm)]
pub struct ButtonForm {
    /// Already checked by `CsrfForm`; a form needs at least one field.
    pub csrf_token: String,
}

#[post("/logout", data = "<_form>")]
pub async fn logout(
    _browser: Browser<'_>,
    _form: CsrfForm<ButtonForm>,
    jar: &CookieJar<'_>,
    state: &State<AppState>,
) -> Flash<Redirect> {
    if let Some(cookie) = jar.get_private(SESSION_COOKIE) {
        let value = cookie.value().to_owned();
        if let Err(e) = state.db.run(move |c| sessions::delete(c, &value)).await {
            tracing::warn!(error = %e, "could not delete a session row");
        }
    }
    jar.remove_private(Cookie::from(SESSION_COOKIE));
    Flash::success(Redirect::to(uri!(login_page(None::<&str>))), "You are logged out")
}

/// Whether `code` opens the setup page: only while no user exists, and only with the printed code.
fn setup_allowed(state: &AppState, code: &str) -> bool {
    let guard = state.setup.0.lock();
    guard
        .as_ref()
        .ok()
        .and_then(|g| g.as_deref())
        .is_some_and(|expected| constant_time_eq(expected.as_bytes(), code.as_bytes()))
}

fn setup_refused() -> Error {
    Error::Forbidden("This setup link is not valid. Use the link revlink printed when it started; it works until the first account exists.".into())
}

#[get("/setup?<code>")]
pub async fn setup_page(code: Option<&str>, state: &State<AppState>) -> Result<Either<Template, Redirect>, Error> {
    if state.db.run(|c| users::count(c)).await? > 0 {
        return Ok(Either::Right(Redirect::to("/login")));
    }
    let code = code.unwrap_or_default();
    if !setup_allowed(state, code) {
        return Err(setup_refused());
    }
    let form = json!({"email": "", "name": "", "domain": "", "timezone": "UTC"});
    Ok(Either::Left(render("setup.html", page(None, None, json!({"code": code, "form": form})))))
}

#[derive(FromForm)]
pub struct SetupForm {
    code: String,
    email: String,
    #[field(default = String::new())]
    name: String,
    password: String,
    domain: String,
    timezone: String,
}

#[post("/setup", data = "<form>")]
pub async fn setup(
    form: Form<SetupForm>,
    jar: &CookieJar<'_>,
    state: &State<AppState>,
) -> Result<Either<Redirect, Template>, Error> {
    let form = form.into_inner();
    if !setup_allowed(state, &form.code) {
        return Err(setup_refused());
    }
    let again = |message: String| {
        let values = json!({"email": form.email, "name": form.name, "domain": form.domain, "timezone": form.timezone});
        Either::Right(render(
            "setup.html",
            page(None, None, json!({"code": form.code, "form": values, "error": message})),
        ))
    };
    let parsed = (|| {
        let email = users::parse_email(&form.email)?;
        let name = parse_name(Some(&form.name), "name").map_err(Error::BadRequest)?;
        let domain = parse_domain(&form.domain).map_err(Error::BadRequest)?;
        let timezone = parse_timezone(&form.timezone).map_err(Error::BadRequest)?;
        Ok::<_, Error>((email, name, domain, timezone))
    })();
    let (email, name, domain, timezone) = match parsed {
        Ok(p) => p,
        Err(e) => return Ok(again(e.to_string())),
    };
    let password = form.password.clone();
    let hash =
        match tokio::task::spawn_blocking(move || crypto::hash_password(&password)).await.map_err(Error::internal)? {
            Ok(h) => h,
            Err(m) => return Ok(again(format!("Invalid password: {m}"))),
        };
    let created = state
        .db
        .run(move |c| {
            db::in_transaction(c, |tx| {
                if users::count(tx)? > 0 {
                    return Err(Error::Conflict("revlink is already set up; log in instead".into()));
                }
                let user = users::create(tx, &email, name.as_deref(), Some(&hash))?;
                let new = websites::NewWebsite { domain, name: None, timezone };
                let actor = Actor { kind: "setup", id: None, user_id: Some(user.clone()) };
                let site = websites::insert(tx, &user, &new, &actor)?;
                Ok((user, site.website_id))
            })
        })
        .await;
    let (user, site) = match created {
        Ok(ids) => ids,
        Err(e @ Error::Conflict(_)) => return Err(e),
        Err(e) => return Ok(again(e.to_string())),
    };
    if let Ok(mut code) = state.setup.0.lock() {
        *code = None;
    }
    start_session(state, jar, user).await?;
    Ok(Either::Left(Redirect::to(format!("/websites/{site}/integrations"))))
}

fn invitation_gone() -> Error {
    Error::NotFound(
        "This invitation link is not valid any more: it was used, withdrawn, or mistyped. Ask for a new one.".into(),
    )
}

#[get("/invite/<token>")]
pub async fn invite_page(token: &str, caller: Option<&Caller>, state: &State<AppState>) -> Result<Template, Error> {
    let raw = token.to_owned();
    let invite = state.db.run(move |c| team::find_invitation(c, &raw)).await?.ok_or_else(invitation_gone)?;
    let email = invite.email.clone();
    let has_account = state.db.run(move |c| users::find_by_email(c, &email)).await?.is_some();
    let session = match caller {
        Some(Caller::Session(s)) if s.email.eq_ignore_ascii_case(&invite.email) => Some(s),
        _ => None,
    };
    Ok(render(
        "invite.html",
        page(
            session,
            None,
            json!({"token": token, "domain": invite.domain, "role": invite.role, "email": invite.email, "has_account": has_account}),
        ),
    ))
}

#[derive(FromForm)]
pub struct AcceptForm {
    csrf_token: Option<String>,
    name: Option<String>,
    password: Option<String>,
}

/// Joins the invited website: as the logged-in user (CSRF-checked), by logging in, or by creating
/// the account. The secret in the link is what authorizes it.
#[post("/invite/<token>", data = "<form>")]
pub async fn accept_invite(
    token: &str,
    _origin: SameSite,
    form: Form<AcceptForm>,
    caller: Option<&Caller>,
    jar: &CookieJar<'_>,
    ip: Option<IpAddr>,
    state: &State<AppState>,
) -> Result<Either<Redirect, Template>, Error> {
    let raw = token.to_owned();
    let invite = state.db.run(move |c| team::find_invitation(c, &raw)).await?.ok_or_else(invitation_gone)?;
    let form = form.into_inner();
    let session = match caller {
        Some(Caller::Session(s)) if s.email.eq_ignore_ascii_case(&invite.email) => Some(s),
        _ => None,
    };
    let again = |message: &str, has_account: bool| {
        let ctx = json!({"token": token, "domain": invite.domain, "role": invite.role, "email": invite.email,
                         "has_account": has_account, "error": message});
        Either::Right(render("invite.html", page(session, None, ctx)))
    };
    let actor =
        |user: &ObjectId| Actor { kind: "invitation", id: Some(invite.id.clone()), user_id: Some(user.clone()) };
    let (user, new_session) = if let Some(s) = session {
        let sent = form.csrf_token.unwrap_or_default();
        if !constant_time_eq(sent.as_bytes(), s.csrf_token.as_bytes()) {
            return Err(Error::Forbidden(crate::auth::CSRF_REFUSED.into()));
        }
        let (id, user, actor) = (invite.id.clone(), s.user_id.clone(), actor(&s.user_id));
        state.db.run(move |c| db::in_transaction(c, |tx| team::accept_invitation(tx, &id, &user, &actor))).await?;
        (s.user_id.clone(), false)
    } else {
        let password = form.password.unwrap_or_default();
        let email = invite.email.clone();
        if let Err(exceeded) = state.limits.check_login_attempt(ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), &email)
        {
            return Ok(again(&format!("Too many attempts; try again in {} seconds", exceeded.retry_after), true));
        }
        let exists = state.db.run(move |c| users::find_by_email(c, &email)).await?.is_some();
        let user = if exists {
            let Some(user) = verify_login(state, invite.email.clone(), password).await? else {
                return Ok(again(WRONG_LOGIN, true));
            };
            let (id, joining, actor) = (invite.id.clone(), user.clone(), actor(&user));
            state
                .db
                .run(move |c| db::in_transaction(c, |tx| team::accept_invitation(tx, &id, &joining, &actor)))
                .await?;
            user
        } else {
            let hash = match new_password_hash(password).await? {
                Ok(h) => h,
                Err(m) => return Ok(again(&format!("Invalid password: {m}"), false)),
            };
            let name = parse_name(form.name.as_deref(), "name").map_err(Error::BadRequest)?;
            let (email, id) = (invite.email.clone(), invite.id.clone());
            // The account and its membership are written together, or neither is.
            state
                .db
                .run(move |c| {
                    db::in_transaction(c, |tx| {
                        let user = users::create(tx, &email, name.as_deref(), Some(&hash))?;
                        let actor = Actor { kind: "invitation", id: Some(id.clone()), user_id: Some(user.clone()) };
                        team::accept_invitation(tx, &id, &user, &actor)?;
                        Ok(user)
                    })
                })
                .await?
        };
        (user, true)
    };
    state.auth_cache.forget_roles();
    if new_session {
        start_session(state, jar, user).await?;
    }
    let site = invite.website_id;
    Ok(Either::Left(Redirect::to(format!("/websites/{site}"))))
}
