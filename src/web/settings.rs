//! The website pages: list and create, General (with the tracking settings, and deletion) and API keys; and
//! how every page that creates a secret shows it once (Post/Redirect/Get through `service::shown_once`).

use rocket::form::FromForm;
use rocket::http::Header;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Responder, Route, State, get, post, routes};
use rocket_dyn_templates::Template;
use serde_json::{Value, json};

use crate::auth::csrf::CsrfForm;
use crate::auth::{ApiKeysRead, ApiKeysWrite, Need, SettingsRead, SettingsWrite, WebsitesDelete};
use crate::domain::credentials::WebsiteKeyView;
use crate::domain::ids::parse_path_id;
use crate::domain::tracking::TrackingSettings;
use crate::domain::website::{
    NewWebsite, RevenueMetric, WebsiteChanges, parse_currency, parse_domain, parse_name, parse_timezone,
};
use crate::domain::{Role, WebsiteId};
use crate::error::Error;
use crate::service::shown_once::{self, OnceSecret};
use crate::service::{App, api_keys, team, tracking, websites};
use crate::web::ButtonForm;
use crate::web::{Browser, PageResult, SitePage, back, merged, page, render};

/// A page that may show a new secret: kept by no cache, so the back button asks again (and finds it gone).
#[derive(Responder)]
pub struct NoStore {
    page: Template,
    cache: Header<'static>,
}

impl From<Template> for NoStore {
    fn from(page: Template) -> Self {
        Self { page, cache: Header::new("Cache-Control", "no-store") }
    }
}

/// Post/Redirect/Get for a creation: the new secret waits in memory for this session's next view of `place`,
/// and the browser is sent there. Only the secret's random id is in the URL; a refresh creates nothing.
pub fn redirect_showing(app: &App, browser: &Browser<'_>, place: &str, secret: OnceSecret) -> Redirect {
    let id = shown_once::keep(app, browser.0, place, secret);
    Redirect::to(format!("{place}?shown={id}#new-secret"))
}

/// The secret the URL's `shown` names, for `secret_once.html`: `{name, key}` the first time, `{gone: true}`
/// after (a refresh, the back button, a copied address); `null` without `shown`.
pub fn shown_secret(app: &App, browser: &Browser<'_>, place: &str, shown: Option<&str>) -> Value {
    match shown.map(|id| shown_once::take(app, browser.0, place, id)) {
        None => Value::Null,
        Some(Some(secret)) => json!({"name": secret.label, "key": secret.expose()}),
        Some(None) => json!({"gone": true}),
    }
}

pub fn routes() -> Vec<Route> {
    routes![
        list_websites,
        create_website,
        general,
        update_general,
        update_tracking,
        confirm_delete,
        delete_website,
        keys,
        create_key,
        roll_key,
        delete_key,
    ]
}

#[derive(FromForm, serde::Serialize)]
pub struct NewWebsiteForm {
    domain: String,
    #[field(default = String::new())]
    name: String,
    timezone: String,
}

async fn websites_page(browser: &Browser<'_>, app: &App, flash: Option<&FlashMessage<'_>>, extra: Value) -> PageResult {
    let list = websites::of_user(app, browser.user()).await?;
    let ctx = merged(json!({"websites": list, "form": {}}), extra);
    Ok(render("websites.html", page(Some(browser.0), flash, ctx)))
}

#[get("/websites")]
pub async fn list_websites(browser: Browser<'_>, flash: Option<FlashMessage<'_>>, app: &State<App>) -> PageResult {
    websites_page(&browser, app, flash.as_ref(), json!({})).await
}

#[post("/websites", data = "<form>")]
pub async fn create_website(
    browser: Browser<'_>,
    form: CsrfForm<NewWebsiteForm>,
    app: &State<App>,
) -> PageResult<Either<Flash<Redirect>, Template>> {
    let form = form.0;
    let parsed = (|| {
        Ok::<_, String>(NewWebsite {
            domain: parse_domain(&form.domain)?,
            name: parse_name(Some(&form.name), "name")?,
            timezone: parse_timezone(&form.timezone)?,
        })
    })();
    let outcome = match parsed {
        Ok(new) => websites::create(app, browser.user(), new, browser.actor()).await,
        Err(message) => Err(Error::BadRequest(message)),
    };
    match outcome {
        Ok(created) => Ok(Either::Left(Flash::success(
            Redirect::to(format!("/websites/{}/integrations", created.website_id)),
            format!("Website {} added. Connect Stripe to import its revenue.", created.domain),
        ))),
        Err(Error::BadRequest(message) | Error::Conflict(message)) => {
            let extra = json!({"error": message, "form": form});
            Ok(Either::Right(websites_page(&browser, app, None, extra).await?))
        }
        Err(e) => Err(e.into()),
    }
}

#[get("/websites/<website_id>")]
pub async fn general(website_id: WebsiteId, page: SitePage<'_, SettingsRead>, app: &State<App>) -> PageResult {
    general_page(&website_id, &page, app, None).await
}

/// The General page; after a refused tracking form, with its message and the values as they were typed.
async fn general_page<N: Need>(
    website_id: &WebsiteId,
    page: &SitePage<'_, N>,
    app: &App,
    refused: Option<(String, &TrackingForm)>,
) -> PageResult {
    let stored = tracking::settings(app, website_id).await?;
    let script_src = format!("{}/js/{}", app.base_url, stored.mode.script_file());
    let (tracking_error, form) = match refused {
        Some((message, typed)) => (
            Some(message),
            json!({"mode": typed.mode, "allowed_hostnames": typed.allowed_hostnames,
            "excluded_ips": typed.excluded_ips, "excluded_paths": typed.excluded_paths}),
        ),
        None => (
            None,
            json!({"mode": stored.mode, "allowed_hostnames": stored.allowed_hostnames.replace(',', "\n"),
            "excluded_ips": stored.excluded_ips, "excluded_paths": stored.excluded_paths}),
        ),
    };
    // A viewer reads the settings as text, with whom to ask for a change.
    let owners: Vec<String> = if page.access.role == Role::Viewer {
        team::list(app, website_id).await?.into_iter().filter(|m| m.role == Role::Owner).map(|m| m.email).collect()
    } else {
        Vec::new()
    };
    let extra = json!({"script_src": script_src, "tracking": form, "tracking_error": tracking_error, "owners": owners});
    page.render(app, website_id, "general.html", extra).await
}

#[derive(FromForm)]
pub struct GeneralForm {
    #[field(default = String::new())]
    name: String,
    domain: String,
    timezone: String,
    currency: String,
    /// Absent from a form without the select: left as it is.
    revenue_metric: Option<String>,
}

#[post("/websites/<website_id>", data = "<form>")]
pub async fn update_general(
    website_id: WebsiteId,
    page: SitePage<'_, SettingsWrite>,
    form: CsrfForm<GeneralForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let form = form.0;
    let outcome = async {
        let changes = WebsiteChanges {
            name: Some(parse_name(Some(&form.name), "name").map_err(Error::BadRequest)?),
            domain: Some(parse_domain(&form.domain).map_err(Error::BadRequest)?),
            timezone: Some(parse_timezone(&form.timezone).map_err(Error::BadRequest)?),
            currency: Some(parse_currency(&form.currency).map_err(Error::BadRequest)?),
            revenue_metric: form
                .revenue_metric
                .as_deref()
                .map(RevenueMetric::parse)
                .transpose()
                .map_err(Error::BadRequest)?,
        };
        websites::update(app, &website_id, changes, page.access.role, page.actor()).await?;
        Ok("Settings saved".to_owned())
    };
    back(format!("/websites/{website_id}"), outcome.await)
}

#[derive(FromForm)]
pub struct TrackingForm {
    #[field(default = String::from("cookie"))]
    mode: String,
    #[field(default = String::new())]
    allowed_hostnames: String,
    #[field(default = String::new())]
    excluded_ips: String,
    #[field(default = String::new())]
    excluded_paths: String,
}

/// The tracking settings of the General page; a refused value answers the page again with what to fix and
/// the values as typed.
#[post("/websites/<website_id>/tracking", data = "<form>")]
pub async fn update_tracking(
    website_id: WebsiteId,
    page: SitePage<'_, SettingsWrite>,
    form: CsrfForm<TrackingForm>,
    app: &State<App>,
) -> PageResult<Either<Flash<Redirect>, Template>> {
    let form = form.0;
    let parsed = TrackingSettings::parse(&form.mode, &form.allowed_hostnames, &form.excluded_ips, &form.excluded_paths);
    let outcome = match parsed {
        Ok(settings) => tracking::update(app, &website_id, settings, page.actor()).await,
        Err(message) => Err(Error::BadRequest(message)),
    };
    match outcome {
        Ok(()) => Ok(Either::Left(Flash::success(
            Redirect::to(format!("/websites/{website_id}#tracking")),
            "Tracking settings saved",
        ))),
        Err(Error::BadRequest(message)) => {
            Ok(Either::Right(general_page(&website_id, &page, app, Some((message, &form))).await?))
        }
        Err(e) => Err(e.into()),
    }
}

#[get("/websites/<website_id>/delete")]
pub async fn confirm_delete(website_id: WebsiteId, page: SitePage<'_, WebsitesDelete>, app: &State<App>) -> PageResult {
    page.render(app, &website_id, "delete_website.html", json!({})).await
}

#[derive(FromForm)]
pub struct DeleteForm {
    domain: String,
}

/// Deletion is here only (the API refuses it): the owner, a confirmation page, the domain typed again.
#[post("/websites/<website_id>/delete", data = "<form>")]
pub async fn delete_website(
    website_id: WebsiteId,
    page: SitePage<'_, WebsitesDelete>,
    form: CsrfForm<DeleteForm>,
    app: &State<App>,
) -> PageResult<Either<Flash<Redirect>, Template>> {
    match websites::delete(app, &website_id, &form.0.domain, page.actor()).await {
        Ok(domain) => Ok(Either::Left(Flash::success(Redirect::to("/websites"), format!("Website {domain} deleted")))),
        Err(Error::BadRequest(message)) => {
            let extra = json!({"error": message});
            Ok(Either::Right(page.render(app, &website_id, "delete_website.html", extra).await?))
        }
        Err(e) => Err(e.into()),
    }
}

fn keys_place(website_id: &WebsiteId) -> String {
    format!("/websites/{website_id}/keys")
}

/// The API keys page; `shown`, after a creation or a roll, names the new key's value to show once.
#[get("/websites/<website_id>/keys?<shown>")]
pub async fn keys(
    website_id: WebsiteId,
    shown: Option<&str>,
    page: SitePage<'_, ApiKeysRead>,
    app: &State<App>,
) -> PageResult<NoStore> {
    let keys = api_keys::list(app, &website_id).await?;
    let secret = shown_secret(app, &page.browser, &keys_place(&website_id), shown);
    Ok(page.render(app, &website_id, "keys.html", json!({"keys": keys, "secret": secret})).await?.into())
}

#[derive(FromForm)]
pub struct NameForm {
    #[field(default = String::new())]
    name: String,
}

/// The raw value of a key just created or rolled, to show once.
fn key_secret(key: WebsiteKeyView, unnamed: &str) -> Result<OnceSecret, Error> {
    let raw = key.key.ok_or_else(|| Error::internal("a new key without its raw value"))?;
    Ok(OnceSecret::new(key.name.unwrap_or_else(|| unnamed.to_owned()), raw))
}

/// Creates a key and redirects to the page that shows it once.
#[post("/websites/<website_id>/keys", data = "<form>")]
pub async fn create_key(
    website_id: WebsiteId,
    page: SitePage<'_, ApiKeysWrite>,
    form: CsrfForm<NameForm>,
    app: &State<App>,
) -> PageResult<Either<Redirect, Flash<Redirect>>> {
    let to = keys_place(&website_id);
    let name = match parse_name(Some(&form.0.name), "name") {
        Ok(n) => n,
        Err(m) => return Ok(Either::Right(back(to, Err(Error::BadRequest(m))))),
    };
    match api_keys::create(app, &website_id, name, page.actor()).await {
        Ok(key) => Ok(Either::Left(redirect_showing(app, &page.browser, &to, key_secret(key, "New key")?))),
        Err(e @ Error::BadRequest(_)) => Ok(Either::Right(back(to, Err(e)))),
        Err(e) => Err(e.into()),
    }
}

/// Gives the key a new value (the old one stops working) and redirects to the page that shows it once.
#[post("/websites/<website_id>/keys/<key_id>/roll", data = "<_form>")]
pub async fn roll_key(
    website_id: WebsiteId,
    key_id: &str,
    page: SitePage<'_, ApiKeysWrite>,
    _form: CsrfForm<ButtonForm>,
    app: &State<App>,
) -> PageResult<Redirect> {
    let id = parse_path_id(key_id, "apiKeyId")?;
    let key = api_keys::roll(app, &website_id, id, page.actor()).await?;
    Ok(redirect_showing(app, &page.browser, &keys_place(&website_id), key_secret(key, "Rolled key")?))
}
#[post("/websites/<website_id>/keys/<key_id>/delete", data = "<_form>")]
pub async fn delete_key(
    website_id: WebsiteId,
    key_id: &str,
    page: SitePage<'_, ApiKeysWrite>,
    _form: CsrfForm<ButtonForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let outcome = async {
        let id = parse_path_id(key_id, "apiKeyId")?;
        api_keys::delete(app, &website_id, id, page.actor()).await?;
        Ok("Key deleted".to_owned())
    };
    back(format!("/websites/{website_id}/keys"), outcome.await)
}
