//! `/websites`: list, create, get, update, and the delete that is refused by design.

use rocket::serde::json::Json;
use rocket::{Route, State, delete, get, post, put, routes};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::doc::{
    Authenticated, Conflict, CurrencyCode, JsonBody as BodyErrors, TimeZone, WebsitePath, WebsiteScoped,
};
use crate::api::{ApiResult, Success, one, success};
use crate::auth::{AccountAccess, SettingsRead, SettingsWrite, WebsiteAccess, WebsitesDelete, WebsitesWrite};
use crate::domain::WebsiteId;
use crate::domain::credentials::Caller;
use crate::domain::website::{
    CreatedWebsite, NewWebsite, RevenueMetric, WebsiteChanges, WebsiteView, parse_currency, parse_domain, parse_name,
    parse_timezone,
};
use crate::error::Error;
use crate::service::{App, websites};

pub fn routes() -> Vec<Route> {
    routes![list_websites, create_website, get_website, update_website, delete_website]
}

/// The caller's websites (a `df_` key: its own); a token's allowlist applies.
#[utoipa::path(context_path = "/api/v1/admin", tag = "websites", security(("bearer" = [])),
    responses((status = 200, description = "the websites", body = Success<WebsiteView>), Authenticated))]
#[get("/websites")]
pub async fn list_websites(caller: &Caller, app: &State<App>) -> ApiResult<WebsiteView> {
    success(websites::visible_to(app, caller).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct CreateWebsite {
    /// Bare domain, no scheme: `example.com`.
    #[schema(
        max_length = 253,
        example = "example.com",
        pattern = "^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
    )]
    domain: String,
    #[schema(inline, value_type = TimeZone)]
    timezone: String,
    #[schema(max_length = 100, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    name: Option<String>,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "websites", security(("bearer" = [])),
    request_body = CreateWebsite,
    responses((status = 200, description = "the new website", body = Success<CreatedWebsite>), Authenticated, BodyErrors,
        (status = 409, response = Conflict)))]
#[post("/websites", data = "<body>")]
pub async fn create_website(
    access: AccountAccess<WebsitesWrite>,
    body: JsonBody,
    app: &State<App>,
) -> ApiResult<CreatedWebsite> {
    let input: CreateWebsite = body.parse()?;
    let new = NewWebsite {
        domain: parse_domain(&input.domain).map_err(Error::BadRequest)?,
        timezone: parse_timezone(&input.timezone).map_err(Error::BadRequest)?,
        name: parse_name(input.name.as_deref(), "name").map_err(Error::BadRequest)?,
    };
    one(websites::create(app, access.user_id, new, access.actor).await?)
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "websites", security(("bearer" = [])),
    params(WebsitePath),
    responses((status = 200, description = "the website", body = Success<WebsiteView>), Authenticated, WebsiteScoped))]
#[get("/websites/<website_id>")]
pub async fn get_website(
    website_id: WebsiteId,
    access: WebsiteAccess<SettingsRead>,
    app: &State<App>,
) -> ApiResult<WebsiteView> {
    one(websites::get(app, &website_id, access.role).await?)
}

/// Any of `domain, name, timezone, currency, revenueMetric`; other fields are refused rather than ignored.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateWebsite {
    #[serde(default, deserialize_with = "string")]
    #[schema(
        value_type = String,
        max_length = 253,
        example = "example.com",
        pattern = "^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
    )]
    domain: Option<String>,
    // `"name": null` clears the name; a missing `name` leaves it.
    #[allow(clippy::option_option)]
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 100, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "string")]
    #[schema(inline, value_type = TimeZone)]
    timezone: Option<String>,
    #[serde(default, deserialize_with = "string")]
    #[schema(inline, value_type = CurrencyCode)]
    currency: Option<String>,
    /// What the Dashboard leads with: `revenue` (of the range) or `mrr` (now).
    #[serde(default, rename = "revenueMetric", deserialize_with = "string")]
    #[schema(value_type = RevenueMetric)]
    revenue_metric: Option<String>,
}

/// A field that may be missing (left as it is) but not `null`: a website always has one.
fn string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// Tells `"name": null` (clear it) from a missing `name` (leave it).
#[allow(clippy::option_option)]
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "websites", security(("bearer" = [])),
    params(WebsitePath), request_body = UpdateWebsite,
    responses((status = 200, description = "the website as changed", body = Success<WebsiteView>), Authenticated, WebsiteScoped,
        BodyErrors, (status = 409, response = Conflict)))]
#[put("/websites/<website_id>", data = "<body>")]
pub async fn update_website(
    website_id: WebsiteId,
    access: WebsiteAccess<SettingsWrite>,
    body: JsonBody,
    app: &State<App>,
) -> ApiResult<WebsiteView> {
    let input: UpdateWebsite = body.parse()?;
    let changes = WebsiteChanges {
        domain: input.domain.as_deref().map(parse_domain).transpose().map_err(Error::BadRequest)?,
        name: input.name.map(|n| parse_name(n.as_deref(), "name")).transpose().map_err(Error::BadRequest)?,
        timezone: input.timezone.as_deref().map(parse_timezone).transpose().map_err(Error::BadRequest)?,
        currency: input.currency.as_deref().map(parse_currency).transpose().map_err(Error::BadRequest)?,
        revenue_metric: input
            .revenue_metric
            .as_deref()
            .map(RevenueMetric::parse)
            .transpose()
            .map_err(Error::BadRequest)?,
    };
    one(websites::update(app, &website_id, changes, access.role, access.actor).await?)
}

/// Always 403: a website is deleted in the settings pages only.
#[utoipa::path(context_path = "/api/v1/admin", tag = "websites", security(("bearer" = [])),
    params(WebsitePath),
    responses(Authenticated, WebsiteScoped))]
#[delete("/websites/<website_id>")]
pub fn delete_website(website_id: WebsiteId, _access: WebsiteAccess<WebsitesDelete>) -> Result<Json<()>, Error> {
    Err(Error::Forbidden(
        "Website deletion cannot be done programmatically. Please delete this website from the revlink settings pages."
            .into(),
    ))
    .inspect_err(|_| tracing::debug!(%website_id, "refused a programmatic website deletion"))
}
