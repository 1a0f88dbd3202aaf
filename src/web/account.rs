//! The account pages: access tokens (create, revoke) and the password.

use rocket::form::FromForm;
use rocket::http::CookieJar;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State, get, post, routes};
use rocket_dyn_templates::Template;
use serde_json::{Value, json};

use crate::api::access_tokens::parse_scope;
use crate::auth::SESSION_COOKIE;
use crate::crypto;
use crate::db::{credentials, sessions, users, websites};
use crate::domain::access::PERMISSIONS;
use crate::domain::ids::parse_path_id;
use crate::domain::website::parse_name;
use crate::error::Error;
use crate::state::AppState;
use crate::web::forms::CsrfForm;
use crate::web::session::ButtonForm;
use crate::web::{Browser, back, merged, page, render};

pub fn routes() -> Vec<Route> {
    routes![tokens, create_token, revoke_token, password_page, change_password]
}

async fn tokens_view(
    browser: &Browser<'_>,
    flash: Option<&FlashMessage<'_>>,
    state: &AppState,
    extra: Value,
) -> Result<Template, Error> {
    let user = browser.0.user_id.clone();
    let (tokens, sites) = state
        .db
        .run(move |c| Ok((credentials::list_access_tokens(c, &user)?, websites::list_for_user(c, &user, &[])?)))
        .await?;
    let ctx = merged(json!({"tokens": tokens, "websites": sites, "permissions": PERMISSIONS}), extra);
    Ok(render("tokens.html", page(Some(browser.0), flash, ctx)))
}

#[get("/account/tokens")]
pub async fn tokens(
    browser: Browser<'_>,
    flash: Option<FlashMessage<'_>>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    tokens_view(&browser, flash.as_ref(), state, json!({})).await
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
pub async fn create_token(
    browser: Browser<'_>,
    form: CsrfForm<TokenForm>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    let form = form.0;
    let parsed = (|| {
        let name = parse_name(Some(&form.name), "name").map_err(Error::BadRequest)?;
        let permissions = (!form.permissions.is_empty()).then_some(form.permissions.as_slice());
        let (permissions, sites) = parse_scope(permissions, Some(&form.websites))?;
        Ok::<_, Error>((name, permissions, sites))
    })();
    let (name, permissions, sites) = match parsed {
        Ok(p) => p,
        Err(e) => return tokens_view(&browser, None, state, json!({"error": e.to_string()})).await,
    };
    let (user, actor) = (browser.0.user_id.clone(), browser.actor());
    match state
        .db
        .run(move |c| credentials::create_access_token(c, &user, name.as_deref(), &permissions, &sites, &actor))
        .await
    {
        Ok(token) => tokens_view(&browser, None, state, json!({"new_token": token})).await,
        Err(e @ Error::BadRequest(_)) => tokens_view(&browser, None, state, json!({"error": e.to_string()})).await,
        Err(e) => Err(e),
    }
}

#[post("/account/tokens/<token_id>/revoke", data = "<_form>")]
pub async fn revoke_token(
    token_id: &str,
    browser: Browser<'_>,
    _form: CsrfForm<ButtonForm>,
    state: &State<AppState>,
) -> Flash<Redirect> {
    let outcome = async {
        let id = parse_path_id(token_id, "tokenId")?;
        let (user, actor) = (browser.0.user_id.clone(), browser.actor());
        state.db.run(move |c| credentials::delete_access_token(c, &user, &id, &actor)).await?;
        state.auth_cache.forget_credentials();
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
    state: &State<AppState>,
) -> Result<Either<Flash<Redirect>, Template>, Error> {
    let again = |message: String| {
        Either::Right(render("password.html", page(Some(browser.0), None, json!({"error": message}))))
    };
    let user = browser.0.user_id.clone();
    let lookup = user.clone();
    let existing = state.db.run(move |c| users::password_hash(c, &lookup)).await?;
    let PasswordForm { current, new } = form.0;
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
    let hash = match checked {
        Ok(h) => h,
        Err(m) => return Ok(again(m)),
    };
    let keep = jar.get_private(SESSION_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    state
        .db
        .run(move |c| {
            users::set_password(c, &user, &hash)?;
            sessions::delete_others(c, &user, &keep)
        })
        .await?;
    Ok(Either::Left(back(
        "/account/password".to_owned(),
        Ok("Password changed; other sessions were logged out".to_owned()),
    )))
}
