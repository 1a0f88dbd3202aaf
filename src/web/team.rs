//! The Team page: members, pending invitations (sent, listed, sent again with a new link, withdrawn) and
//! removals; every change is the owner's. A new invitation link is shown once, after a redirect.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State, get, post, routes};
use serde_json::json;

use crate::auth::csrf::CsrfForm;
use crate::auth::{TeamManage, TeamRead};
use crate::domain::account::parse_email;
use crate::domain::ids::parse_path_id;
use crate::domain::team::{INVITATION_LIFETIME_DAYS, Invitation, parse_invited_role};
use crate::domain::{ObjectId, WebsiteId};
use crate::error::Error;
use crate::service::shown_once::OnceSecret;
use crate::service::{App, team};
use crate::web::settings::{NoStore, redirect_showing, shown_secret};
use crate::web::{ButtonForm, PageResult, SitePage, back};

pub fn routes() -> Vec<Route> {
    routes![team_page, invite, renew_invitation, revoke_invitation, remove_member]
}

fn team_place(website_id: &WebsiteId) -> String {
    format!("/websites/{website_id}/team")
}

/// The Team page; `shown`, after an invitation was sent, names its link to show once.
#[get("/websites/<website_id>/team?<shown>")]
pub async fn team_page(
    website_id: WebsiteId,
    shown: Option<&str>,
    page: SitePage<'_, TeamRead>,
    app: &State<App>,
) -> PageResult<NoStore> {
    let members = team::list(app, &website_id).await?;
    let invitations = team::invitations(app, &website_id).await?;
    let secret = shown_secret(app, &page.browser, &team_place(&website_id), shown);
    let extra = json!({"members": members, "invitations": invitations, "secret": secret,
                       "lifetime_days": INVITATION_LIFETIME_DAYS});
    Ok(page.render(app, &website_id, "team.html", extra).await?.into())
}

/// An invitation's link, to show once.
fn link_secret(invitation: Invitation) -> OnceSecret {
    OnceSecret::new(format!("Send this link to {}", invitation.email), invitation.invite_url)
}

#[derive(FromForm)]
pub struct InviteForm {
    email: String,
    role: String,
}

/// Sends an invitation and redirects to the page that shows its link once.
#[post("/websites/<website_id>/team", data = "<form>")]
pub async fn invite(
    website_id: WebsiteId,
    page: SitePage<'_, TeamManage>,
    form: CsrfForm<InviteForm>,
    app: &State<App>,
) -> PageResult<Either<Redirect, Flash<Redirect>>> {
    let to = team_place(&website_id);
    let parsed = parse_email(&form.0.email)
        .and_then(|email| Ok((email, parse_invited_role(Some(&form.0.role)).map_err(Error::BadRequest)?)));
    let (email, role) = match parsed {
        Ok(p) => p,
        Err(e) => return Ok(Either::Right(back(to, Err(e)))),
    };
    match team::invite(app, &website_id, page.browser.user(), email, role, page.actor()).await {
        Ok(inv) => Ok(Either::Left(redirect_showing(app, &page.browser, &to, link_secret(inv)))),
        Err(e @ (Error::BadRequest(_) | Error::Conflict(_))) => Ok(Either::Right(back(to, Err(e)))),
        Err(e) => Err(e.into()),
    }
}

/// Only a hash of a link is stored, so a lost (or expired) link is replaced: a new one, shown once, valid for a
/// new lifetime; the old one stops working.
#[post("/websites/<website_id>/team/invitations/<invitation_id>/renew", data = "<_form>")]
pub async fn renew_invitation(
    website_id: WebsiteId,
    invitation_id: &str,
    page: SitePage<'_, TeamManage>,
    _form: CsrfForm<ButtonForm>,
    app: &State<App>,
) -> PageResult<Either<Redirect, Flash<Redirect>>> {
    let to = team_place(&website_id);
    let renewed = match parse_path_id(invitation_id, "invitationId") {
        Ok(id) => team::renew_invitation(app, &website_id, id, page.actor()).await,
        Err(e) => Err(e),
    };
    match renewed {
        Ok(inv) => Ok(Either::Left(redirect_showing(app, &page.browser, &to, link_secret(inv)))),
        Err(e @ (Error::BadRequest(_) | Error::NotFound(_))) => Ok(Either::Right(back(to, Err(e)))),
        Err(e) => Err(e.into()),
    }
}

#[post("/websites/<website_id>/team/invitations/<invitation_id>/revoke", data = "<_form>")]
pub async fn revoke_invitation(
    website_id: WebsiteId,
    invitation_id: &str,
    page: SitePage<'_, TeamManage>,
    _form: CsrfForm<ButtonForm>,
    app: &State<App>,
) -> Flash<Redirect> {
    let outcome = async {
        let id = parse_path_id(invitation_id, "invitationId")?;
        let email = team::revoke_invitation(app, &website_id, id, page.actor()).await?;
        Ok(format!("Invitation to {email} withdrawn: its link no longer works"))
    };
    back(team_place(&website_id), outcome.await)
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
    back(team_place(&website_id), outcome.await)
}
