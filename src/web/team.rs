//! The Team page: members, invitation links and removals (the owner's).

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State, get, post, routes};
use rocket_dyn_templates::Template;
use serde_json::{Value, json};

use crate::auth::csrf::CsrfForm;
use crate::auth::{Need, TeamManage, TeamRead};
use crate::domain::account::parse_email;
use crate::domain::ids::parse_path_id;
use crate::domain::team::parse_invited_role;
use crate::domain::{ObjectId, WebsiteId};
use crate::error::Error;
use crate::service::{App, team};
use crate::web::{PageResult, SitePage, back, merged};

pub fn routes() -> Vec<Route> {
    routes![team_page, invite, remove_member]
}

async fn team_view<N: Need>(website_id: &WebsiteId, page: &SitePage<'_, N>, app: &App, extra: Value) -> PageResult {
    let members = team::list(app, website_id).await?;
    page.render(app, website_id, "team.html", merged(json!({"members": members}), extra)).await
}

#[get("/websites/<website_id>/team")]
pub async fn team_page(website_id: WebsiteId, page: SitePage<'_, TeamRead>, app: &State<App>) -> PageResult {
    team_view(&website_id, &page, app, json!({})).await
}

#[derive(FromForm)]
pub struct InviteForm {
    email: String,
    role: String,
}

/// Inviting answers with the page itself, which shows the link to send (once).
#[post("/websites/<website_id>/team", data = "<form>")]
pub async fn invite(
    website_id: WebsiteId,
    page: SitePage<'_, TeamManage>,
    form: CsrfForm<InviteForm>,
    app: &State<App>,
) -> PageResult<Either<Template, Flash<Redirect>>> {
    let to = format!("/websites/{website_id}/team");
    let parsed = parse_email(&form.0.email)
        .and_then(|email| Ok((email, parse_invited_role(Some(&form.0.role)).map_err(Error::BadRequest)?)));
    let (email, role) = match parsed {
        Ok(p) => p,
        Err(e) => return Ok(Either::Right(back(to, Err(e)))),
    };
    match team::invite(app, &website_id, page.browser.user(), email, role, page.actor()).await {
        Ok(inv) => {
            let extra = json!({"invite_link": inv.invite_url, "invite_email": inv.email});
            Ok(Either::Left(team_view(&website_id, &page, app, extra).await?))
        }
        Err(e @ (Error::BadRequest(_) | Error::Conflict(_))) => Ok(Either::Right(back(to, Err(e)))),
        Err(e) => Err(e.into()),
    }
}

#[derive(FromForm)]
pub struct RemoveForm {
    user_id: String,
}

#[post("/websites/<website_id>/team/remove", data = "<form>")]
pub async fn remove_member(
    website_id: WebsiteId,
    page: SitePage<'_, TeamManage>,
    form: CsrfForm<RemoveForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let outcome = async {
        let user: ObjectId = parse_path_id(&form.0.user_id, "userId")?;
        team::remove(app, &website_id, page.browser.user(), user, page.actor()).await?;
        Ok("Member removed".to_owned())
    };
    back(format!("/websites/{website_id}/team"), outcome.await)
}
