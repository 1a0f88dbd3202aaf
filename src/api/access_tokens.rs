//! `/access-tokens`: the caller's `dft_` tokens. Account tokens only; a new token never exceeds its creator's.

use rocket::{Route, State, delete, get, post, routes};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::body::JsonBody;
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
    responses((status = 200, body = Success<AccessTokenView>)))]
#[get("/access-tokens")]
pub async fn list_access_tokens(access: AccountAccess<ApiKeysRead>, app: &State<App>) -> ApiResult<AccessTokenView> {
    success(tokens::list(app, access.user_id).await?)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAccessToken {
    name: Option<String>,
    /// Default `["*"]`.
    permissions: Option<Vec<String>>,
    /// Default `[]` (all the user's websites).
    website_ids: Option<Vec<String>>,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "access-tokens", security(("bearer" = [])),
    request_body = CreateAccessToken, responses((status = 200, body = Success<AccessTokenView>)))]
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
    responses((status = 200, body = Success<Message>)))]
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
