//! `/access-tokens`: the caller's `dft_` tokens. Account tokens only; a new token never exceeds its creator's.

use rocket::{Route, State, delete, get, post, routes};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::{ApiResult, Message, Success, one, success};
use crate::auth::{AccountAccess, ApiKeysRead, ApiKeysWrite};
use crate::db::credentials::{self, AccessTokenView};
use crate::domain::ids::parse_path_id;
use crate::domain::website::parse_name;
use crate::domain::{ObjectId, PermissionSet};
use crate::error::Error;
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    routes![list_access_tokens, create_access_token, delete_access_token]
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "access-tokens", security(("bearer" = [])),
    responses((status = 200, body = Success<AccessTokenView>)))]
#[get("/access-tokens")]
pub async fn list_access_tokens(
    access: AccountAccess<ApiKeysRead>,
    state: &State<AppState>,
) -> ApiResult<AccessTokenView> {
    success(state.db.run(move |c| credentials::list_access_tokens(c, &access.user_id)).await?)
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

/// The new token's permissions and allowlist, checked against the creating token's.
pub fn parse_scope(
    permissions: Option<&[String]>,
    website_ids: Option<&[String]>,
) -> Result<(PermissionSet, Vec<ObjectId>), Error> {
    let permissions = match permissions {
        None => PermissionSet::all(),
        Some([]) => {
            return Err(Error::BadRequest("permissions must not be empty; omit it for [\"*\"]".into()));
        }
        Some(list) => PermissionSet::parse(list).map_err(Error::BadRequest)?,
    };
    let mut ids = Vec::new();
    for raw in website_ids.unwrap_or_default() {
        let id = ObjectId::parse(raw)
            .ok_or_else(|| Error::BadRequest(format!("Invalid websiteId in websiteIds: {raw:?}")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok((permissions, ids))
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "access-tokens", security(("bearer" = [])),
    request_body = CreateAccessToken, responses((status = 200, body = Success<AccessTokenView>)))]
#[post("/access-tokens", data = "<body>")]
pub async fn create_access_token(
    access: AccountAccess<ApiKeysWrite>,
    body: JsonBody,
    state: &State<AppState>,
) -> ApiResult<AccessTokenView> {
    let input: CreateAccessToken = body.parse()?;
    let name = parse_name(input.name.as_deref(), "name").map_err(Error::BadRequest)?;
    let (permissions, website_ids) = parse_scope(input.permissions.as_deref(), input.website_ids.as_deref())?;
    if !access.caller_permissions.covers(&permissions) {
        return Err(Error::Forbidden("A token cannot grant permissions that the token creating it lacks".into()));
    }
    let caller_sites = &access.caller_websites;
    if !caller_sites.is_empty() && (website_ids.is_empty() || website_ids.iter().any(|w| !caller_sites.contains(w))) {
        return Err(Error::Forbidden(
            "A token cannot reach websites outside the allowlist of the token creating it; list websiteIds within it"
                .into(),
        ));
    }
    let (user, actor) = (access.user_id, access.actor);
    one(state
        .db
        .run(move |c| credentials::create_access_token(c, &user, name.as_deref(), &permissions, &website_ids, &actor))
        .await?)
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "access-tokens", security(("bearer" = [])),
    responses((status = 200, body = Success<Message>)))]
#[delete("/access-tokens/<token_id>")]
pub async fn delete_access_token(
    token_id: &str,
    access: AccountAccess<ApiKeysWrite>,
    state: &State<AppState>,
) -> ApiResult<Message> {
    let id = parse_path_id(token_id, "tokenId")?;
    let (user, actor) = (access.user_id, access.actor);
    state.db.run(move |c| credentials::delete_access_token(c, &user, &id, &actor)).await?;
    state.auth_cache.forget_credentials();
    one(Message::new("Access token deleted successfully"))
}
