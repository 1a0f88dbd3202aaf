//! `/access-tokens`: the caller's `dft_` tokens. Account tokens only; a new token never exceeds its creator's.

use rocket::{Route, State, delete, get, post, routes};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::doc::{Authenticated, BadRequest, JsonBody as BodyErrors, NotFound, PermissionName};
use crate::api::{ApiResult, Message, Success, one, success};
use crate::auth::{AccountAccess, ApiKeysRead, ApiKeysWrite};
use crate::domain::credentials::{AccessTokenView, parse_scope};
use crate::domain::ids::parse_path_id;
use crate::domain::website::parse_name;
use crate::error::Error;
use crate::service::App;
use crate::service::tokens::{self, Creator, NewToken};

pub fn routes() -> Vec<Route> {
    routes![list_access_tokens, create_access_token, delete_access_token]
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "access-tokens", security(("bearer" = [])),
    responses((status = 200, description = "the caller's tokens", body = Success<AccessTokenView>), Authenticated))]
#[get("/access-tokens")]
pub async fn list_access_tokens(access: AccountAccess<ApiKeysRead>, app: &State<App>) -> ApiResult<AccessTokenView> {
    success(tokens::list(app, access.user_id).await?)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAccessToken {
    #[schema(max_length = 100, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    name: Option<String>,
    // Default `["*"]`; at most the creating token's own.
    #[schema(inline, value_type = Option<Vec<PermissionName>>, min_items = 1)]
    permissions: Option<Vec<String>>,
    /// Default `[]` (all the user's websites).
    #[schema(value_type = Option<Vec<String>>, pattern = "^[0-9a-f]{24}$")]
    website_ids: Option<Vec<String>>,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "access-tokens", security(("bearer" = [])),
    request_body = CreateAccessToken,
    // 400 (the contract's) also for the limit of 20 tokens and a websiteIds entry that is not the caller's.
    responses((status = 200, description = "the new token; `key` is shown only this once", body = Success<AccessTokenView>),
        Authenticated, BodyErrors))]
#[post("/access-tokens", data = "<body>")]
pub async fn create_access_token(
    access: AccountAccess<ApiKeysWrite>,
    body: JsonBody,
    app: &State<App>,
) -> ApiResult<AccessTokenView> {
    let input: CreateAccessToken = body.parse()?;
    let name = parse_name(input.name.as_deref(), "name").map_err(Error::BadRequest)?;
    let (permissions, websites) =
        parse_scope(input.permissions.as_deref(), input.website_ids.as_deref()).map_err(Error::BadRequest)?;
    let creator = Creator {
        user: access.user_id,
        permissions: access.caller_permissions,
        websites: access.caller_websites,
        actor: access.actor,
    };
    one(tokens::create(app, creator, NewToken { name, permissions, websites }).await?)
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "access-tokens", security(("bearer" = [])),
    params(("token_id" = String, Path, pattern = "^[0-9a-f]{24}$", description = "the `_id` of one of the caller's tokens")),
    responses((status = 200, description = "deleted", body = Success<Message>), Authenticated,
        (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
#[delete("/access-tokens/<token_id>")]
pub async fn delete_access_token(
    token_id: &str,
    access: AccountAccess<ApiKeysWrite>,
    app: &State<App>,
) -> ApiResult<Message> {
    let id = parse_path_id(token_id, "tokenId")?;
    tokens::revoke(app, access.user_id, id, access.actor).await?;
    one(Message::new("Access token deleted successfully"))
}
