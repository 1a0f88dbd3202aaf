//! First-run setup, login, logout and invitation links: the pages that create sessions.

use std::sync::Arc;

use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::status::Custom;
use rocket::response::{Flash, Redirect};
use rocket::time::Duration;
use rocket::{Either, Route, State, get, post, routes, uri};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::auth::client::ClientAddress;
use crate::auth::csrf::{CSRF_REFUSED, CsrfForm, SameSiteForm};
use crate::auth::guards::SESSION_COOKIE;
use crate::auth::ratelimit::RateLimits;
use crate::crypto::constant_time_eq;
use crate::domain::ObjectId;
use crate::domain::account::parse_email;
use crate::domain::credentials::Caller;
use crate::domain::website::{NewWebsite, parse_domain, parse_name, parse_timezone};
use crate::error::Error;
use crate::service::App;
use crate::service::accounts::{self, Joining, NewOwner, WRONG_LOGIN};
use crate::web::{Browser, ButtonForm, PageResult, page, render};

pub fn routes() -> Vec<Route> {
    routes![login_page, login, logout, setup_page, setup, new_setup_link, invite_page, accept_invite]
}

/// `/`: for a logged-in browser, the Dashboard of their one website, or the list of their websites; else the
/// login page (or setup on a fresh install).
#[get("/")]
pub async fn home(caller: Option<&Caller>, app: &State<App>) -> Redirect {
    if let Some(Caller::Session(session)) = caller {
        let sites = crate::service::websites::of_user(app, session.user_id.clone()).await.unwrap_or_default();
        return match sites.as_slice() {
            [only] => Redirect::to(format!("/websites/{}/dashboard", only.id)),
            _ => Redirect::to("/websites"),
        };
    }
    let fresh = accounts::user_count(app).await.is_ok_and(|n| n == 0);
    Redirect::to(if fresh { "/setup" } else { "/login" })
}

/// Starts a session for `user` and sets its private cookie.
async fn start_session(app: &App, jar: &CookieJar<'_>, user: ObjectId) -> Result<(), Error> {
    let session = accounts::start_session(app, user).await?;
    let cookie = Cookie::build((SESSION_COOKIE, session.cookie_value))
        .http_only(true)
        .same_site(rocket::http::SameSite::Lax)
        .secure(app.base_url.starts_with("https://"))
        .max_age(Duration::seconds(accounts::session_secs(app)))
        .path("/");
    jar.add_private(cookie);
    Ok(())
}

/// Only local paths are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// The login form's token lives in this private cookie and in a hidden field; a post whose two do not
/// match is not checked at all, so another site cannot sign a visitor in to an account of its choosing.
const LOGIN_COOKIE: &str = "revlink_login";

/// The browser's login form token, made (and set as a cookie) when it has none.
fn login_token(jar: &CookieJar<'_>) -> String {
    if let Some(cookie) = jar.get_private(LOGIN_COOKIE) {
        return cookie.value().to_owned();
    }
    let token = hex::encode(rand::random::<[u8; 16]>());
    let cookie = Cookie::build((LOGIN_COOKIE, token.clone()))
        .http_only(true)
        .same_site(rocket::http::SameSite::Strict)
        .max_age(Duration::hours(12))
        .path("/login");
    jar.add_private(cookie);
    token
}

#[get("/login?<next>")]
pub fn login_page(next: Option<&str>, flash: Option<FlashMessage<'_>>, jar: &CookieJar<'_>) -> Template {
    let ctx = json!({"next": safe_next(next), "email": "", "login_token": login_token(jar)});
    render("login.html", page(None, flash.as_ref(), ctx))
}

#[derive(FromForm)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
    login_token: Option<String>,
}

const LOGIN_FORM_STALE: &str = "This sign-in form expired or came from another site; sign in again.";

#[post("/login", data = "<form>")]
pub async fn login(
    _origin: SameSiteForm,
    form: Form<LoginForm>,
    jar: &CookieJar<'_>,
    client: ClientAddress,
    limits: &State<Arc<RateLimits>>,
    app: &State<App>,
) -> PageResult<Either<Redirect, Template>> {
    let form = form.into_inner();
    let email = form.email.trim().to_lowercase();
    let expected = jar.get_private(LOGIN_COOKIE).map(|c| c.value().to_owned());
    let again = |message: &str| {
        let ctx = json!({"next": safe_next(form.next.as_deref()), "email": email, "error": message,
                         "login_token": login_token(jar)});
        Ok(Either::Right(render("login.html", page(None, None, ctx))))
    };
    let sent = form.login_token.as_deref().unwrap_or_default();
    if !expected.is_some_and(|expected| constant_time_eq(expected.as_bytes(), sent.as_bytes())) {
        return again(LOGIN_FORM_STALE);
    }
    if let Err(exceeded) = limits.check_login_attempt(client.0, &email) {
        return again(&format!("Too many sign-in attempts; try again in {} seconds", exceeded.retry_after));
    }
    let Some(user) = accounts::check_password(app, email.clone(), form.password).await? else {
        return again(WRONG_LOGIN);
    };
    start_session(app, jar, user).await?;
    jar.remove_private(Cookie::build(LOGIN_COOKIE).path("/login"));
    Ok(Either::Left(Redirect::to(safe_next(form.next.as_deref()))))
}

#[post("/logout", data = "<_form>")]
pub async fn logout(
    _browser: Browser<'_>,
    _form: CsrfForm<ButtonForm>,
    jar: &CookieJar<'_>,
    app: &State<App>,
) -> Flash<Redirect> {
    if let Some(cookie) = jar.get_private(SESSION_COOKIE)
        && let Err(e) = accounts::end_session(app, cookie.value().to_owned()).await
    {
        tracing::warn!(error = %e, "could not delete a session row");
    }
    jar.remove_private(Cookie::from(SESSION_COOKIE));
    Flash::success(Redirect::to(uri!(login_page(None::<&str>))), "You are logged out")
}

/// The setup form for a valid code; without one (or with a wrong one, 403) the page that says where the link
/// was printed and offers to print a fresh one; once set up, the login page.
#[get("/setup?<code>")]
pub async fn setup_page(
    code: Option<&str>,
    flash: Option<FlashMessage<'_>>,
    app: &State<App>,
) -> PageResult<Either<Custom<Template>, Redirect>> {
    let code = code.unwrap_or_default();
    let refused = match accounts::setup_open(app, code).await {
        Ok(true) => None,
        Ok(false) => return Ok(Either::Right(Redirect::to("/login"))),
        Err(Error::Forbidden(message)) => Some(message),
        Err(e) => return Err(e.into()),
    };
    if let Some(message) = refused {
        // No code at all is someone arriving at a fresh install; a wrong one is a link that does not work.
        let (status, error) = if code.is_empty() { (Status::Ok, None) } else { (Status::Forbidden, Some(message)) };
        let ctx = page(None, flash.as_ref(), json!({"error": error}));
        return Ok(Either::Left(Custom(status, render("setup_pending.html", ctx))));
    }
    let form = json!({"email": "", "name": "", "domain": "", "timezone": "UTC"});
    Ok(Either::Left(Custom(Status::Ok, render("setup.html", page(None, None, json!({"code": code, "form": form}))))))
}

/// Prints a link with a fresh setup code to the server's output (never to the browser), a few times a minute
/// at most, while no account exists.
#[post("/setup/link")]
pub async fn new_setup_link(
    _origin: SameSiteForm,
    limits: &State<Arc<RateLimits>>,
    app: &State<App>,
) -> PageResult<Flash<Redirect>> {
    if accounts::user_count(app).await? > 0 {
        return Ok(Flash::error(Redirect::to("/login"), "revlink is already set up; log in"));
    }
    if let Err(exceeded) = limits.check_setup_link() {
        let message = format!(
            "A setup link was printed moments ago: look for it in the server's output, or try again in {} seconds",
            exceeded.retry_after
        );
        return Ok(Flash::error(Redirect::to("/setup"), message));
    }
    if accounts::print_setup_link(app).await? {
        // No client address in the log: it is personal data (the README's privacy section).
        tracing::info!("printed a fresh setup link at a visitor's request");
    }
    Ok(Flash::success(
        Redirect::to("/setup"),
        "A fresh setup link was printed to the server's output. Earlier links still work.",
    ))
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
    app: &State<App>,
) -> PageResult<Either<Redirect, Template>> {
    let form = form.into_inner();
    // The code first: without it, nothing about the form is answered.
    if !accounts::setup_open(app, &form.code).await? {
        return Ok(Either::Left(Redirect::to("/login")));
    }
    let again = |message: String| {
        let values = json!({"email": form.email, "name": form.name, "domain": form.domain, "timezone": form.timezone});
        Either::Right(render(
            "setup.html",
            page(None, None, json!({"code": form.code, "form": values, "error": message})),
        ))
    };
    let parsed = (|| {
        Ok::<_, Error>(NewOwner {
            email: parse_email(&form.email)?,
            name: parse_name(Some(&form.name), "name").map_err(Error::BadRequest)?,
            password: form.password.clone(),
            website: NewWebsite {
                domain: parse_domain(&form.domain).map_err(Error::BadRequest)?,
                name: None,
                timezone: parse_timezone(&form.timezone).map_err(Error::BadRequest)?,
            },
        })
    })();
    let created = match parsed {
        Ok(owner) => accounts::set_up(app, &form.code, owner).await,
        Err(e) => Err(e),
    };
    let (user, site) = match created {
        Ok(ids) => ids,
        Err(Error::BadRequest(message)) => return Ok(again(message)),
        Err(e) => return Err(e.into()),
    };
    start_session(app, jar, user).await?;
    Ok(Either::Left(Redirect::to(format!("/websites/{site}/integrations"))))
}

#[get("/invite/<token>")]
pub async fn invite_page(token: &str, caller: Option<&Caller>, app: &State<App>) -> PageResult {
    let (invite, has_account) = accounts::invitation(app, token).await?;
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
#[allow(clippy::too_many_arguments)]
#[post("/invite/<token>", data = "<form>")]
pub async fn accept_invite(
    token: &str,
    _origin: SameSiteForm,
    form: Form<AcceptForm>,
    caller: Option<&Caller>,
    jar: &CookieJar<'_>,
    client: ClientAddress,
    limits: &State<Arc<RateLimits>>,
    app: &State<App>,
) -> PageResult<Either<Redirect, Template>> {
    let (invite, has_account) = accounts::invitation(app, token).await?;
    let form = form.into_inner();
    let session = match caller {
        Some(Caller::Session(s)) if s.email.eq_ignore_ascii_case(&invite.email) => Some(s),
        _ => None,
    };
    let again = |message: &str| {
        let ctx = json!({"token": token, "domain": invite.domain, "role": invite.role, "email": invite.email,
                         "has_account": has_account, "error": message});
        Either::Right(render("invite.html", page(session, None, ctx)))
    };
    let joining = if let Some(s) = session {
        let sent = form.csrf_token.unwrap_or_default();
        if !constant_time_eq(sent.as_bytes(), s.csrf_token.as_bytes()) {
            return Err(Error::Forbidden(CSRF_REFUSED.into()).into());
        }
        Joining::LoggedIn(s.user_id.clone())
    } else {
        if let Err(exceeded) = limits.check_login_attempt(client.0, &invite.email) {
            return Ok(again(&format!("Too many attempts; try again in {} seconds", exceeded.retry_after)));
        }
        let password = form.password.unwrap_or_default();
        if has_account {
            Joining::Password(password)
        } else {
            let name = parse_name(form.name.as_deref(), "name").map_err(Error::BadRequest)?;
            Joining::NewAccount { name, password }
        }
    };
    let new_session = !matches!(joining, Joining::LoggedIn(_));
    let user = match accounts::accept_invitation(app, &invite, joining).await {
        Ok(user) => user,
        Err(Error::Unauthorized(message)) => return Ok(again(message)),
        Err(Error::BadRequest(message)) => return Ok(again(&message)),
        Err(e) => return Err(e.into()),
    };
    if new_session {
        start_session(app, jar, user).await?;
    }
    Ok(Either::Left(Redirect::to(format!("/websites/{}", invite.website_id))))
}
