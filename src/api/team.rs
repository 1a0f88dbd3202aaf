//! `/websites/{id}/team`: members and roles; invitations and removals are the owner's.

use rocket::{Route, State, delete, get, post, routes};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::{ApiResult, Message, Success, one, success};
use crate::auth::{TeamManage, TeamRead, WebsiteAccess};
use crate::db::team::{self, Invitation, TeamMember};
use crate::db::users::parse_email;
use crate::domain::{ObjectId, Role};
use crate::error::Error;
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    routes![list_team, invite_member, remove_member]
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "team", security(("bearer" = [])),
    responses((status = 200, body = Success<TeamMember>)))]
#[get("/websites/<website_id>/team")]
pub async fn list_team(
    website_id: &str,
    access: WebsiteAccess<TeamRead>,
    state: &State<AppState>,
) -> ApiResult<TeamMember> {
    let _ = website_id;
    success(state.db.run(move |c| team::list(c, &access.website_id)).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct Invite {
    email: String,
    /// `viewer` (default) or `member`.
    role: Option<String>,
}

/// The owner behind a `TeamManage` access (website keys never reach here: the guard refuses them).
fn owner_of(access: &WebsiteAccess<TeamManage>) -> Result<ObjectId, Error> {
    access.user_id.clone().ok_or_else(|| Error::Forbidden("Only the website's owner can do this".into()))
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "team", security(("bearer" = [])),
    request_body = Invite, responses((status = 200, body = Success<Invitation>)))]
#[post("/websites/<website_id>/team", data = "<body>")]
pub async fn invite_member(
    website_id: &str,
    access: WebsiteAccess<TeamManage>,
    body: JsonBody,
    state: &State<AppState>,
) -> ApiResult<Invitation> {
    let _ = website_id;
    let input: Invite = body.parse()?;
    let email = parse_email(&input.email)?;
    let role = match input.role.as_deref() {
        None => Role::Viewer,
        Some(r @ ("viewer" | "member")) => r.parse().map_err(Error::BadRequest)?,
        Some(other) => {
            return Err(Error::BadRequest(format!("Invalid role {other:?}: use viewer or member")));
        }
    };
    let inviter = owner_of(&access)?;
    let base_url = state.base_url.clone();
    one(state
        .db
        .run(move |c| team::invite(c, &access.website_id, &inviter, &email, role, &base_url, &access.actor))
        .await?)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Remove {
    user_id: String,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "team", security(("bearer" = [])),
    request_body = Remove, responses((status = 200, body = Success<Message>)))]
#[delete("/websites/<website_id>/team", data = "<body>")]
pub async fn remove_member(
    website_id: &str,
    access: WebsiteAccess<TeamManage>,
    body: JsonBody,
    state: &State<AppState>,
) -> ApiResult<Message> {
    let _ = website_id;
    let input: Remove = body.parse()?;
    let user = ObjectId::parse(&input.user_id).ok_or_else(|| Error::BadRequest("Invalid userId".into()))?;
    let owner = owner_of(&access)?;
    state.db.run(move |c| team::remove(c, &access.website_id, &owner, &user, &access.actor)).await?;
    state.auth_cache.forget_roles();
    one(Message::new("Team member removed successfully"))
}
