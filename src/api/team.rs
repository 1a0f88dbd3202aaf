//! `/websites/{id}/team`: members and roles; invitations and removals are the owner's.

use rocket::{Route, State, delete, get, post, routes};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::body::JsonBody;
use crate::api::doc::{Authenticated, Conflict, InvitedRole, JsonBody as BodyErrors, WebsitePath, WebsiteScoped};
use crate::api::{ApiResult, Message, Success, one, success};
use crate::auth::{TeamManage, TeamRead, WebsiteAccess};
use crate::domain::account::parse_email;
use crate::domain::team::{Invitation, TeamMember, parse_invited_role};
use crate::domain::{ObjectId, WebsiteId};
use crate::error::Error;
use crate::service::{App, team};

pub fn routes() -> Vec<Route> {
    routes![list_team, invite_member, remove_member]
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "team", security(("bearer" = [])),
    params(WebsitePath),
    responses((status = 200, description = "the website's members", body = Success<TeamMember>), Authenticated, WebsiteScoped))]
#[get("/websites/<website_id>/team")]
pub async fn list_team(
    website_id: WebsiteId,
    _access: WebsiteAccess<TeamRead>,
    app: &State<App>,
) -> ApiResult<TeamMember> {
    success(team::list(app, &website_id).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct Invite {
    #[schema(format = Email, max_length = 254, example = "teammate@example.com")]
    email: String,
    #[schema(inline, value_type = Option<InvitedRole>)]
    role: Option<String>,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "team", security(("bearer" = [])),
    params(WebsitePath), request_body = Invite,
    responses((status = 200, description = "the invitation", body = Success<Invitation>), Authenticated, WebsiteScoped,
        BodyErrors, (status = 409, response = Conflict)))]
#[post("/websites/<website_id>/team", data = "<body>")]
pub async fn invite_member(
    website_id: WebsiteId,
    access: WebsiteAccess<TeamManage>,
    body: JsonBody,
    app: &State<App>,
) -> ApiResult<Invitation> {
    let input: Invite = body.parse()?;
    let email = parse_email(&input.email)?;
    let role = parse_invited_role(input.role.as_deref()).map_err(Error::BadRequest)?;
    let inviter = access.owner()?.clone();
    one(team::invite(app, &website_id, inviter, email, role, access.actor).await?)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Remove {
    #[schema(pattern = "^[0-9a-f]{24}$", example = "665f0b3c4d2e1a0012345679")]
    user_id: String,
}

#[utoipa::path(context_path = "/api/v1/admin", tag = "team", security(("bearer" = [])),
    params(WebsitePath), request_body = Remove,
    // 400: the owner removing themself.
    responses((status = 200, description = "removed", body = Success<Message>), Authenticated, WebsiteScoped, BodyErrors))]
#[delete("/websites/<website_id>/team", data = "<body>")]
pub async fn remove_member(
    website_id: WebsiteId,
    access: WebsiteAccess<TeamManage>,
    body: JsonBody,
    app: &State<App>,
) -> ApiResult<Message> {
    let input: Remove = body.parse()?;
    let user = ObjectId::parse(&input.user_id).ok_or_else(|| Error::BadRequest("Invalid userId".into()))?;
    let owner = access.owner()?.clone();
    team::remove(app, &website_id, owner, user, access.actor).await?;
    one(Message::new("Team member removed successfully"))
}
