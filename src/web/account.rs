//! The account pages: access tokens (create, shown once after a redirect; revoke) and the password.

use rocket::form::FromForm;
use rocket::http::CookieJar;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State, get, post, routes};
use rocket_dyn_templates::Template;
use serde_json::{Value, json};

use crate::auth::csrf::CsrfForm;
use crate::auth::guards::SESSION_COOKIE;
use crate::domain::Permission;
use crate::domain::credentials::parse_scope;
use crate::domain::ids::parse_path_id;
use crate::domain::website::parse_name;
use crate::error::Error;
use crate::service::shown_once::OnceSecret;
use crate::service::tokens::{Creator, NewToken};
use crate::service::{self, App};
use crate::web::ButtonForm;
use crate::web::settings::{NoStore, redirect_showing, shown_secret};
use crate::web::{Browser, PageResult, back, merged, page, render};

pub fn routes() -> Vec<Route> {
    routes![tokens, create_token, revoke_token, password_page, change_password]
}

const TOKENS: &str = "/account/tokens";

/// The permissions a token can be given here: those some route of revlink checks (`goals:read`, `funnels:*` and
/// `alerts:*` are in the contract's list, but no feature of revlink uses them), grouped by what they open.
const PERMISSION_GROUPS: [(&str, &[(Permission, &str)]); 5] = [
    (
        "Reading analytics and revenue",
        &[
            (
                Permission::ANALYTICS_READ,
                "the Analytics API: reports, visitors, goals, realtime, and the revenue summary",
            ),
            (Permission::PAYMENTS_READ, "list a website's payments, page by page"),
        ],
    ),
    (
        "Sending from your server",
        &[
            (Permission::PAYMENTS_WRITE, "record and delete payments (POST and DELETE /api/v1/payments)"),
            (Permission::GOALS_WRITE, "record goals (POST /api/v1/goals)"),
            (Permission::IDENTIFY_WRITE, "tie a visitor to your user id (POST /api/v1/identify)"),
        ],
    ),
    (
        "Websites and their settings",
        &[
            (Permission::WEBSITES_READ, "list your websites"),
            (Permission::WEBSITES_WRITE, "add websites"),
            (Permission::SETTINGS_READ, "read a website's settings and its Stripe connection (never the key)"),
            (Permission::SETTINGS_WRITE, "change settings; connect, disconnect and sync Stripe"),
        ],
    ),
    (
        "Team",
        &[
            (Permission::TEAM_READ, "list a website's members"),
            (Permission::TEAM_WRITE, "invite and remove members (on websites you own)"),
        ],
    ),
    (
        "Keys and tokens",
        &[
            (Permission::API_KEYS_READ, "list website keys and your access tokens (masked)"),
            (Permission::API_KEYS_WRITE, "create, roll and delete them (never beyond this token's own reach)"),
        ],
    ),
];

fn permission_groups() -> Value {
    let groups: Vec<Value> = PERMISSION_GROUPS
        .iter()
        .map(|(group, permissions)| {
            let offered: Vec<Value> =
                permissions.iter().map(|(p, note)| json!({"name": p.as_str(), "note": note})).collect();
            json!({"group": group, "permissions": offered})
        })
        .collect();
    Value::Array(groups)
}

/// The tokens page with `extra` (made once the lists are read, so a secret is not taken for a page that fails).
async fn tokens_view(
    browser: &Browser<'_>,
    flash: Option<&FlashMessage<'_>>,
    app: &App,
    extra: impl FnOnce() -> Value,
) -> PageResult {
    let tokens = service::tokens::list(app, browser.user()).await?;
    let sites = service::websites::of_user(app, browser.user()).await?;
    let ctx = merged(json!({"tokens": tokens, "websites": sites, "groups": permission_groups(), "form": {}}), extra());
    Ok(render("tokens.html", page(Some(browser.0), flash, ctx)))
}

/// The tokens page; `shown`, after a creation, names the new token to show once.
#[get("/account/tokens?<shown>")]
pub async fn tokens(
    shown: Option<&str>,
    browser: Browser<'_>,
    flash: Option<FlashMessage<'_>>,
    app: &State<App>,
) -> PageResult<NoStore> {
    let secret = || json!({"secret": shown_secret(app, &browser, TOKENS, shown)});
    Ok(tokens_view(&browser, flash.as_ref(), app, secret).await?.into())
}

#[derive(FromForm, serde::Serialize)]
pub struct TokenForm {
    #[field(default = String::new())]
    name: String,
    permissions: Vec<String>,
    websites: Vec<String>,
}

/// Asks for at least one permission (a token does only what it is given), creates the token and redirects to
/// the page that shows it once. A refused form comes back with its message and what was ticked.
#[post("/account/tokens", data = "<form>")]
pub async fn create_token(
    browser: Browser<'_>,
    form: CsrfForm<TokenForm>,
    app: &State<App>,
) -> PageResult<Either<Redirect, Template>> {
    let form = form.0;
    let parsed = (|| {
        let name = parse_name(Some(&form.name), "name")?;
        if form.permissions.is_empty() {
            return Err("Tick at least one permission: a token can do only what you tick here".to_owned());
        }
        let (permissions, websites) = parse_scope(Some(form.permissions.as_slice()), Some(form.websites.as_slice()))?;
        Ok::<_, String>(NewToken { name, permissions, websites })
    })();
    let created = match parsed {
        Ok(new) => service::tokens::create(app, Creator::whole_account(browser.user(), browser.actor()), new).await,
        Err(message) => Err(Error::BadRequest(message)),
    };
    match created {
        Ok(token) => {
            let raw = token.key.ok_or_else(|| Error::internal("a new token without its raw value"))?;
            let secret = OnceSecret::new(token.name.unwrap_or_else(|| "New token".to_owned()), raw);
            Ok(Either::Left(redirect_showing(app, &browser, TOKENS, secret)))
        }
        Err(e @ Error::BadRequest(_)) => {
            let extra = || json!({"error": e.to_string(), "form": form});
            Ok(Either::Right(tokens_view(&browser, None, app, extra).await?))
        }
        Err(e) => Err(e.into()),
    }
}

#[post("/account/tokens/<token_id>/revoke", data = "<_form>")]
pub async fn revoke_token(
    token_id: &str,
    browser: Browser<'_>,
    _form: CsrfForm<ButtonForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let outcome = async {
        let id = parse_path_id(token_id, "tokenId")?;
        service::tokens::revoke(app, browser.user(), id, browser.actor()).await?;
        Ok("Token revoked".to_owned())
    };
    back(TOKENS.to_owned(), outcome.await)
}

#[get("/account/password")]
pub fn password_page(browser: Browser<'_>, flash: Option<FlashMessage<'_>>) -> Template {
    render("password.html", page(Some(browser.0), flash.as_ref(), json!({})))
}

#[derive(FromForm)]
pub struct PasswordForm {
    #[field(default = String::new())]
    current: String,
    new: String,
}

/// Changes the password (the current one is required when there is one) and ends other sessions.
#[post("/account/password", data = "<form>")]
pub async fn change_password(
    browser: Browser<'_>,
    form: CsrfForm<PasswordForm>,
    jar: &CookieJar<'_>,
    app: &State<App>,
) -> PageResult<Either<Flash<Redirect>, Template>> {
    let keep = jar.get_private(SESSION_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    let PasswordForm { current, new } = form.0;
    match service::accounts::change_password(app, browser.user(), current, new, keep).await {
        Ok(()) => Ok(Either::Left(back(
            "/account/password".to_owned(),
            Ok("Password changed; other sessions were logged out".to_owned()),
        ))),
        Err(Error::BadRequest(message)) => {
            Ok(Either::Right(render("password.html", page(Some(browser.0), None, json!({"error": message})))))
        }
        Err(e) => Err(e.into()),
    }
}
