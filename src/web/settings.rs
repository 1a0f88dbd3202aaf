//! The website pages: list and create, General, Integrations (Stripe), API keys and Team.

use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State, get, post, routes};
use rocket_dyn_templates::Template;
use serde_json::{Value, json};

use crate::api::integrations as integrations_api;
use crate::auth::{
    ApiKeysRead, ApiKeysWrite, Need, SettingsRead, SettingsWrite, TeamManage, TeamRead, WebsiteAccess, WebsitesDelete,
};
use crate::config::Environment;
use crate::db::{credentials, stripe as stripe_db, team, websites};
use crate::domain::ids::parse_path_id;
use crate::domain::website::{parse_currency, parse_domain, parse_name, parse_timezone};
use crate::domain::{ObjectId, Role};
use crate::error::Error;
use crate::state::AppState;
use crate::stripe::verify::{REQUIRED_PERMISSIONS, create_key_url};
use crate::web::forms::CsrfForm;
use crate::web::session::ButtonForm;
use crate::web::{Browser, back, merged, page, render};

pub fn routes() -> Vec<Route> {
    routes![
        list_websites,
        create_website,
        general,
        update_general,
        confirm_delete,
        delete_website,
        integrations,
        confirm_disconnect,
        disconnect,
        sync_now,
        keys,
        create_key,
        roll_key,
        delete_key,
        team_page,
        invite,
        remove_member
    ]
}

#[derive(FromForm, serde::Serialize)]
pub struct NewWebsiteForm {
    domain: String,
    #[field(default = String::new())]
    name: String,
    timezone: String,
}

async fn websites_page(
    browser: &Browser<'_>,
    state: &AppState,
    flash: Option<&FlashMessage<'_>>,
    extra: Value,
) -> Result<Template, Error> {
    let user = browser.0.user_id.clone();
    let list = state.db.run(move |c| websites::list_for_user(c, &user, &[])).await?;
    let ctx = merged(json!({"websites": list, "form": {}}), extra);
    Ok(render("websites.html", page(Some(browser.0), flash, ctx)))
}

#[get("/websites")]
pub async fn list_websites(
    browser: Browser<'_>,
    flash: Option<FlashMessage<'_>>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    websites_page(&browser, state, flash.as_ref(), json!({})).await
}

#[post("/websites", data = "<form>")]
pub async fn create_website(
    browser: Browser<'_>,
    form: CsrfForm<NewWebsiteForm>,
    state: &State<AppState>,
) -> Result<Either<Flash<Redirect>, Template>, Error> {
    let form = form.0;
    let parsed = (|| {
        Ok::<_, String>(websites::NewWebsite {
            domain: parse_domain(&form.domain)?,
            name: parse_name(Some(&form.name), "name")?,
            timezone: parse_timezone(&form.timezone)?,
        })
    })();
    let new = match parsed {
        Ok(new) => new,
        Err(message) => {
            let extra = json!({"error": message, "form": form});
            return Ok(Either::Right(websites_page(&browser, state, None, extra).await?));
        }
    };
    let (owner, actor) = (browser.0.user_id.clone(), browser.actor());
    match state.db.run(move |c| websites::create(c, &owner, &new, &actor)).await {
        Ok(created) => Ok(Either::Left(Flash::success(
            Redirect::to(format!("/websites/{}/integrations", created.website_id)),
            format!("Website {} added. Connect Stripe to import its revenue.", created.domain),
        ))),
        Err(Error::Conflict(message)) => {
            Ok(Either::Right(websites_page(&browser, state, None, json!({"error": message, "form": form})).await?))
        }
        Err(e) => Err(e),
    }
}

/// The website, the tab's own context, and the shared page context.
pub(crate) async fn website_page<N: Need>(
    name: &'static str,
    access: &WebsiteAccess<N>,
    browser: &Browser<'_>,
    flash: Option<&FlashMessage<'_>>,
    state: &AppState,
    extra: Value,
) -> Result<Template, Error> {
    let (site, role) = (access.website_id.clone(), access.role);
    let website = state.db.run(move |c| websites::get(c, &site, role)).await?;
    let ctx =
        merged(json!({"website": website, "can_write": role != Role::Viewer, "is_owner": role == Role::Owner}), extra);
    Ok(render(name, page(Some(browser.0), flash, ctx)))
}

#[get("/websites/<website_id>")]
pub async fn general(
    website_id: &str,
    access: WebsiteAccess<SettingsRead>,
    browser: Browser<'_>,
    flash: Option<FlashMessage<'_>>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    let _ = website_id;
    website_page("general.html", &access, &browser, flash.as_ref(), state, json!({})).await
}

#[derive(FromForm)]
pub struct GeneralForm {
    #[field(default = String::new())]
    name: String,
    domain: String,
    timezone: String,
    currency: String,
}

#[post("/websites/<website_id>", data = "<form>")]
pub async fn update_general(
    website_id: &str,
    access: WebsiteAccess<SettingsWrite>,
    form: CsrfForm<GeneralForm>,
    state: &State<AppState>,
) -> Flash<Redirect> {
    let to = format!("/websites/{website_id}");
    let form = form.0;
    let outcome = async {
        let changes = websites::WebsiteChanges {
            name: Some(parse_name(Some(&form.name), "name").map_err(Error::BadRequest)?),
            domain: Some(parse_domain(&form.domain).map_err(Error::BadRequest)?),
            timezone: Some(parse_timezone(&form.timezone).map_err(Error::BadRequest)?),
            currency: Some(parse_currency(&form.currency).map_err(Error::BadRequest)?),
        };
        state.db.run(move |c| websites::update(c, &access.website_id, &changes, &access.actor)).await?;
        Ok("Settings saved".to_owned())
    };
    back(to, outcome.await)
}

#[get("/websites/<website_id>/delete")]
pub async fn confirm_delete(
    website_id: &str,
    access: WebsiteAccess<WebsitesDelete>,
    browser: Browser<'_>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    let _ = website_id;
    website_page("delete_website.html", &access, &browser, None, state, json!({})).await
}

#[derive(FromForm)]
pub struct DeleteForm {
    domain: String,
}

/// Deletion is here only (the API refuses it): the owner, a confirmation page, the domain typed again.
#[post("/websites/<website_id>/delete", data = "<form>")]
pub async fn delete_website(
    website_id: &str,
    access: WebsiteAccess<WebsitesDelete>,
    browser: Browser<'_>,
    form: CsrfForm<DeleteForm>,
    state: &State<AppState>,
) -> Result<Either<Flash<Redirect>, Template>, Error> {
    let _ = website_id;
    let (site, role) = (access.website_id.clone(), access.role);
    let website = state.db.run(move |c| websites::get(c, &site, role)).await?;
    if !form.0.domain.trim().eq_ignore_ascii_case(&website.domain) {
        let extra = json!({"error": format!("Type {} exactly to delete this website", website.domain)});
        return Ok(Either::Right(website_page("delete_website.html", &access, &browser, None, state, extra).await?));
    }
    let (site, actor) = (access.website_id.clone(), access.actor.clone());
    state.db.run(move |c| websites::delete(c, &site, &actor)).await?;
    // Its website keys went with it; so do the cached ones.
    state.auth_cache.forget_credentials();
    state.auth_cache.forget_roles();
    Ok(Either::Left(Flash::success(Redirect::to("/websites"), format!("Website {} deleted", website.domain))))
}

#[get("/websites/<website_id>/integrations")]
pub async fn integrations(
    website_id: &str,
    access: WebsiteAccess<SettingsRead>,
    browser: Browser<'_>,
    flash: Option<FlashMessage<'_>>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    let _ = website_id;
    let site = access.website_id.clone();
    let (stripe, currency) = state.db.run(move |c| stripe_db::status(c, &site)).await?;
    let development = state.config.environment == Environment::Development;
    let permissions: Vec<Value> =
        REQUIRED_PERMISSIONS.iter().map(|(name, label)| json!({"name": name, "label": label})).collect();
    // A failed connect without JavaScript comes back as an error flash: show it next to the field.
    let (field_error, flash) = match flash {
        Some(f) if f.kind() == "error" => (Some(f.message().to_owned()), None),
        other => (None, other),
    };
    let extra = json!({
        "stripe": stripe,
        "currency": currency,
        "permissions": permissions,
        "create_key_url": create_key_url(development),
        "allow_test": development,
        "field_error": field_error,
    });
    website_page("integrations.html", &access, &browser, flash.as_ref(), state, extra).await
}

#[get("/websites/<website_id>/integrations/stripe/disconnect")]
pub async fn confirm_disconnect(
    website_id: &str,
    access: WebsiteAccess<SettingsWrite>,
    browser: Browser<'_>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    let _ = website_id;
    website_page("disconnect.html", &access, &browser, None, state, json!({})).await
}

#[post("/websites/<website_id>/integrations/stripe/disconnect", data = "<_form>")]
pub async fn disconnect(
    website_id: &str,
    access: WebsiteAccess<SettingsWrite>,
    _form: CsrfForm<ButtonForm>,
    state: &State<AppState>,
) -> Flash<Redirect> {
    let outcome = integrations_api::disconnect(state, access).await.map(str::to_owned);
    back(format!("/websites/{website_id}/integrations"), outcome)
}

/// The Integrations page's "Sync now" button.
#[post("/websites/<website_id>/integrations/stripe/sync", data = "<_form>")]
pub async fn sync_now(
    website_id: &str,
    access: WebsiteAccess<SettingsWrite>,
    _form: CsrfForm<ButtonForm>,
    state: &State<AppState>,
) -> Flash<Redirect> {
    let outcome =
        integrations_api::start_sync(state, access.website_id).await.map(|()| "Stripe sync started".to_owned());
    back(format!("/websites/{website_id}/integrations"), outcome)
}

async fn keys_page<N: Need>(
    access: &WebsiteAccess<N>,
    browser: &Browser<'_>,
    flash: Option<&FlashMessage<'_>>,
    state: &AppState,
    new_key: Option<credentials::WebsiteKeyView>,
) -> Result<Template, Error> {
    let site = access.website_id.clone();
    let keys = state.db.run(move |c| credentials::list_website_keys(c, &site)).await?;
    website_page("keys.html", access, browser, flash, state, json!({"keys": keys, "new_key": new_key})).await
}

#[get("/websites/<website_id>/keys")]
pub async fn keys(
    website_id: &str,
    access: WebsiteAccess<ApiKeysRead>,
    browser: Browser<'_>,
    flash: Option<FlashMessage<'_>>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    let _ = website_id;
    keys_page(&access, &browser, flash.as_ref(), state, None).await
}

#[derive(FromForm)]
pub struct NameForm {
    #[field(default = String::new())]
    name: String,
}

/// Creating a key answers with the page itself (never a redirect), so the raw key travels only once.
#[post("/websites/<website_id>/keys", data = "<form>")]
pub async fn create_key(
    website_id: &str,
    access: WebsiteAccess<ApiKeysWrite>,
    browser: Browser<'_>,
    form: CsrfForm<NameForm>,
    state: &State<AppState>,
) -> Result<Either<Template, Flash<Redirect>>, Error> {
    let name = match parse_name(Some(&form.0.name), "name") {
        Ok(n) => n,
        Err(m) => return Ok(Either::Right(back(format!("/websites/{website_id}/keys"), Err(Error::BadRequest(m))))),
    };
    let (site, actor) = (access.website_id.clone(), access.actor.clone());
    match state.db.run(move |c| credentials::create_website_key(c, &site, name.as_deref(), &actor)).await {
        Ok(key) => Ok(Either::Left(keys_page(&access, &browser, None, state, Some(key)).await?)),
        Err(e @ Error::BadRequest(_)) => Ok(Either::Right(back(format!("/websites/{website_id}/keys"), Err(e)))),
        Err(e) => Err(e),
    }
}

#[post("/websites/<website_id>/keys/<key_id>/roll", data = "<_form>")]
pub async fn roll_key(
    website_id: &str,
    key_id: &str,
    access: WebsiteAccess<ApiKeysWrite>,
    browser: Browser<'_>,
    _form: CsrfForm<ButtonForm>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    let _ = website_id;
    let id = parse_path_id(key_id, "apiKeyId")?;
    let (site, actor) = (access.website_id.clone(), access.actor.clone());
    let key = state.db.run(move |c| credentials::roll_website_key(c, &site, &id, &actor)).await?;
    state.auth_cache.forget_credentials();
    keys_page(&access, &browser, None, state, Some(key)).await
}

#[post("/websites/<website_id>/keys/<key_id>/delete", data = "<_form>")]
pub async fn delete_key(
    website_id: &str,
    key_id: &str,
    access: WebsiteAccess<ApiKeysWrite>,
    _form: CsrfForm<ButtonForm>,
    state: &State<AppState>,
) -> Flash<Redirect> {
    let outcome = async {
        let id = parse_path_id(key_id, "apiKeyId")?;
        state.db.run(move |c| credentials::delete_website_key(c, &access.website_id, &id, &access.actor)).await?;
        state.auth_cache.forget_credentials();
        Ok("Key deleted".to_owned())
    };
    back(format!("/websites/{website_id}/keys"), outcome.await)
}

async fn team_view<N: Need>(
    access: &WebsiteAccess<N>,
    browser: &Browser<'_>,
    flash: Option<&FlashMessage<'_>>,
    state: &AppState,
    extra: Value,
) -> Result<Template, Error> {
    let site = access.website_id.clone();
    let members = state.db.run(move |c| team::list(c, &site)).await?;
    let ctx = merged(json!({"members": members}), extra);
    website_page("team.html", access, browser, flash, state, ctx).await
}

#[get("/websites/<website_id>/team")]
pub async fn team_page(
    website_id: &str,
    access: WebsiteAccess<TeamRead>,
    browser: Browser<'_>,
    flash: Option<FlashMessage<'_>>,
    state: &State<AppState>,
) -> Result<Template, Error> {
    let _ = website_id;
    team_view(&access, &browser, flash.as_ref(), state, json!({})).await
}

#[derive(FromForm)]
pub struct InviteForm {
    email: String,
    role: String,
}

#[post("/websites/<website_id>/team", data = "<form>")]
pub async fn invite(
    website_id: &str,
    access: WebsiteAccess<TeamManage>,
    browser: Browser<'_>,
    form: CsrfForm<InviteForm>,
    state: &State<AppState>,
) -> Result<Either<Template, Flash<Redirect>>, Error> {
    let to = format!("/websites/{website_id}/team");
    let parsed = (|| {
        let email = crate::db::users::parse_email(&form.0.email)?;
        let role = match form.0.role.as_str() {
            "viewer" => Role::Viewer,
            "member" => Role::Member,
            other => return Err(Error::BadRequest(format!("Invalid role {other:?}: use viewer or member"))),
        };
        Ok((email, role))
    })();
    let (email, role) = match parsed {
        Ok(p) => p,
        Err(e) => return Ok(Either::Right(back(to, Err(e)))),
    };
    let (site, inviter, actor, base) =
        (access.website_id.clone(), browser.0.user_id.clone(), access.actor.clone(), state.base_url.clone());
    match state.db.run(move |c| team::invite(c, &site, &inviter, &email, role, &base, &actor)).await {
        Ok(inv) => {
            let extra = json!({"invite_link": inv.invite_url, "invite_email": inv.email});
            Ok(Either::Left(team_view(&access, &browser, None, state, extra).await?))
        }
        Err(e @ (Error::BadRequest(_) | Error::Conflict(_))) => Ok(Either::Right(back(to, Err(e)))),
        Err(e) => Err(e),
    }
}

#[derive(FromForm)]
pub struct RemoveForm {
    user_id: String,
}

#[post("/websites/<website_id>/team/remove", data = "<form>")]
pub async fn remove_member(
    website_id: &str,
    access: WebsiteAccess<TeamManage>,
    browser: Browser<'_>,
    form: CsrfForm<RemoveForm>,
    state: &State<AppState>,
) -> Flash<Redirect> {
    let outcome = async {
        let user: ObjectId = parse_path_id(&form.0.user_id, "userId")?;
        let owner = browser.0.user_id.clone();
        state.db.run(move |c| team::remove(c, &access.website_id, &owner, &user, &access.actor)).await?;
        state.auth_cache.forget_roles();
        Ok("Member removed".to_owned())
    };
    back(format!("/websites/{website_id}/team"), outcome.await)
}
