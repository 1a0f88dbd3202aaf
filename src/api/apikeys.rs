//! `/websites/{id}/apikeys`: the website's `df_` keys; raw values only on create and roll.

use rocket::{Route, State, delete, get, post, put, routes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::doc::{Authenticated, JsonBody as BodyErrors, WebsitePath, WebsiteScoped};
use crate::api::{ApiResult, Success, one, success};
use crate::auth::{ApiKeysRead, ApiKeysWrite, WebsiteAccess};
use crate::domain::WebsiteId;
use crate::domain::credentials::WebsiteKeyView;
use crate::domain::ids::parse_path_id;
use crate::domain::website::parse_name;
use crate::error::Error;
use crate::service::{App, api_keys};

pub fn routes() -> Vec<Route> {
    routes![list_api_keys, create_api_key, roll_api_key, delete_api_key]
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "api-keys", security(("bearer" = [])),
    params(WebsitePath),
    responses((status = 200, description = "the website's keys", body = Success<WebsiteKeyView>), Authenticated, WebsiteScoped))]
#[get("/websites/<website_id>/apikeys")]
pub async fn list_api_keys(
    website_id: WebsiteId,
    _access: WebsiteAccess<ApiKeysRead>,
    app: &State<App>,
) -> ApiResult<WebsiteKeyView> {
    success(api_keys::list(app, &website_id).await?)
}

#[derive(Default, Deserialize, ToSchema)]
pub struct CreateApiKey {
    #[schema(max_length = 100, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    name: Option<String>,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "api-keys", security(("bearer" = [])),
    params(WebsitePath), request_body(content = Option<CreateApiKey>, description = "optional: an empty body makes an unnamed key"),
    responses((status = 200, description = "the new key; `key` is shown only this once", body = Success<WebsiteKeyView>),
        // 400 "Key limit reached" (the contract's) at 10 keys.
        Authenticated, WebsiteScoped, BodyErrors))]
#[post("/websites/<website_id>/apikeys", data = "<body>")]
pub async fn create_api_key(
    website_id: WebsiteId,
    access: WebsiteAccess<ApiKeysWrite>,
    body: JsonBody,
    app: &State<App>,
) -> ApiResult<WebsiteKeyView> {
    let input: CreateApiKey = body.parse_or_default()?;
    let name = parse_name(input.name.as_deref(), "name").map_err(Error::BadRequest)?;
    one(api_keys::create(app, &website_id, name, access.actor).await?)
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "api-keys", security(("bearer" = [])),
    params(WebsitePath, ("api_key_id" = String, Path, pattern = "^[0-9a-f]{24}$", description = "the `_id` of one of the website's keys")),
    responses((status = 200, description = "the rolled key; the new `key` is shown only this once", body = Success<WebsiteKeyView>),
        Authenticated, WebsiteScoped))]
#[put("/websites/<website_id>/apikeys/<api_key_id>")]
pub async fn roll_api_key(
    website_id: WebsiteId,
    api_key_id: &str,
    access: WebsiteAccess<ApiKeysWrite>,
    app: &State<App>,
) -> ApiResult<WebsiteKeyView> {
    let id = parse_path_id(api_key_id, "apiKeyId")?;
    one(api_keys::roll(app, &website_id, id, access.actor).await?)
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    deleted: bool,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "api-keys", security(("bearer" = [])),
    params(WebsitePath, ("api_key_id" = String, Path, pattern = "^[0-9a-f]{24}$", description = "the `_id` of one of the website's keys")),
    responses((status = 200, description = "deleted", body = Success<Deleted>), Authenticated, WebsiteScoped))]
#[delete("/websites/<website_id>/apikeys/<api_key_id>")]
pub async fn delete_api_key(
    website_id: WebsiteId,
    api_key_id: &str,
    access: WebsiteAccess<ApiKeysWrite>,
    app: &State<App>,
) -> ApiResult<Deleted> {
    let id = parse_path_id(api_key_id, "apiKeyId")?;
    api_keys::delete(app, &website_id, id, access.actor).await?;
    one(Deleted { deleted: true })
}
