//! The account pages: access tokens (create, revoke) and the password.

use rocket::form::FromForm;
use rocket::http::CookieJar;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State, get, post, routes};
use rocket_dyn_templates::Template;
use serde_json::{Value, json};

use crate::auth::csrf::CsrfForm;
use crate::auth::guards::SESSION_COOKIE;
use crate::domain::access::PERMISSIONS;
use crate::domain::credentials::parse_scope;
use crate::domain::ids::parse_path_id;
use crate::domain::website::parse_name;
use crate::error::Error;
use crate::service::tokens::{Creator, NewToken};
use crate::service::{self, App};
use crate::web::ButtonForm;
use crate::web::{Browser, PageResult, back, merged, page, render};

pub fn routes() -> Vec<Route> {
    routes![tokens, create_token, revoke_token, password_page, change_password]
}

async fn tokens_view(browser: &Browser<'_>, flash: Option<&FlashMessage<'_>>, app: &App, extra: Value) -> PageResult {
    let tokens = service::tokens::list(app, browser.user()).await?;
    let sites = service::websites::of_user(app, browser.user()).await?;
    let ctx = merged(json!({"tokens": tokens, "websites": sites, "permissions": PERMISSIONS}), extra);
    Ok(render("tokens.html", page(Some(browser.0), flash, ctx)))
}

#[get("/account/tokens")]
pub async fn tokens(browser: Browser<'_>, flash: Option<FlashMessage<'_>>, app: &State<App>) -> PageResult {
    tokens_view(&browser, flash.as_ref(), app, json!({})).await
}

#[derive(FromForm)]
pub struct TokenForm {
    #[field(default = String::new())]
    name: String,
    permissions: Vec<String>,
    websites: Vec<String>,
}

/// Answers with the page itself, so the raw token is shown once and never stored in a cookie.
#[post("/account/tokens", data = "<form>")]
pub async fn create_token(browser: Browser<'_>, form: CsrfForm<TokenForm>, app: &State<App>) -> PageResult {
    let form = form.0;
    let parsed = (|| {
        let name = parse_name(Some(&form.name), "name")?;
        // None ticked: the default, every permission.
        let permissions = (!form.permissions.is_empty()).then_some(form.permissions.as_slice());
        let (permissions, websites) = parse_scope(permissions, Some(&form.websites))?;
        Ok::<_, String>(NewToken { name, permissions, websites })
    })();
    let created = match parsed {
        Ok(new) => service::tokens::create(app, Creator::whole_account(browser.user(), browser.actor()), new).await,
        Err(message) => Err(Error::BadRequest(message)),
    };
    match created {
        Ok(token) => tokens_view(&browser, None, app, json!({"new_token": token})).await,
        Err(e @ Error::BadRequest(_)) => tokens_view(&browser, None, app, json!({"error": e.to_string()})).await,
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
    back("/account/tokens".to_owned(), outcome.await)
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
