//! `/websites/{id}/apikeys`: the website's `df_` keys; raw values only on create and roll.

use rocket::{Route, State, delete, get, post, put, routes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::{ApiResult, Success, one, success};
use crate::auth::{ApiKeysRead, ApiKeysWrite, WebsiteAccess};
use crate::db::credentials::{self, WebsiteKeyView};
use crate::domain::ids::parse_path_id;
use crate::domain::website::parse_name;
use crate::error::Error;
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    routes![list_api_keys, create_api_key, roll_api_key, delete_api_key]
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, body = Success<WebsiteKeyView>)))]
#[get("/websites/<website_id>/apikeys")]
pub async fn list_api_keys(
    website_id: &str,
    access: WebsiteAccess<ApiKeysRead>,
    state: &State<AppState>,
) -> ApiResult<WebsiteKeyView> {
    let _ = website_id;
    success(state.db.run(move |c| credentials::list_website_keys(c, &access.website_id)).await?)
}

#[derive(Default, Deserialize, ToSchema)]
pub struct CreateApiKey {
    name: Option<String>,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "api-keys", security(("bearer" = [])),
    request_body = CreateApiKey, responses((status = 200, body = Success<WebsiteKeyView>)))]
#[post("/websites/<website_id>/apikeys", data = "<body>")]
pub async fn create_api_key(
    website_id: &str,
    access: WebsiteAccess<ApiKeysWrite>,
    body: JsonBody,
    state: &State<AppState>,
) -> ApiResult<WebsiteKeyView> {
    let _ = website_id;
    let input: CreateApiKey = body.parse_or_default()?;
    let name = parse_name(input.name.as_deref(), "name").map_err(Error::BadRequest)?;
    one(state
        .db
        .run(move |c| credentials::create_website_key(c, &access.website_id, name.as_deref(), &access.actor))
        .await?)
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, body = Success<WebsiteKeyView>)))]
#[put("/websites/<website_id>/apikeys/<api_key_id>")]
pub async fn roll_api_key(
    website_id: &str,
    api_key_id: &str,
    access: WebsiteAccess<ApiKeysWrite>,
    state: &State<AppState>,
) -> ApiResult<WebsiteKeyView> {
    let _ = website_id;
    let id = parse_path_id(api_key_id, "apiKeyId")?;
    let rolled =
        state.db.run(move |c| credentials::roll_website_key(c, &access.website_id, &id, &access.actor)).await?;
    state.auth_cache.forget_credentials();
    one(rolled)
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    deleted: bool,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, body = Success<Deleted>)))]
#[delete("/websites/<website_id>/apikeys/<api_key_id>")]
pub async fn delete_api_key(
    website_id: &str,
    api_key_id: &str,
    access: WebsiteAccess<ApiKeysWrite>,
    state: &State<AppState>,
) -> ApiResult<Deleted> {
    let _ = website_id;
    let id = parse_path_id(api_key_id, "apiKeyId")?;
    state.db.run(move |c| credentials::delete_website_key(c, &access.website_id, &id, &access.actor)).await?;
    state.auth_cache.forget_credentials();
    one(Deleted { deleted: true })
}
