//! The settings pages: server-rendered HTML (Tera), form posts answered with a redirect and a flash
//! message, and the HTML face of errors. Every page acts through the same guards as the API and calls
//! the same services.

pub mod account;
pub mod assets;
pub mod chart;
pub mod dashboard;
pub mod errors;
pub mod format;
pub mod integrations;
pub mod money;
pub mod range;
pub mod revenue;
pub mod session;
pub mod settings;
pub mod subscriptions;
pub mod team;
pub mod tracking_script;

use rocket::form::FromForm;
use rocket::outcome::try_outcome;
use rocket::request::{FlashMessage, FromRequest, Outcome, Request};
use rocket::response::{self, Flash, Redirect, Responder};
use rocket::{Catcher, Route, routes};
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::auth::{Need, WebsiteAccess};
use crate::domain::account::SessionRecord;
use crate::domain::credentials::Caller;
use crate::domain::{Actor, ObjectId, Role, WebsiteId};
use crate::error::{Error, MISSING_CREDENTIAL, guard_failure, stash};
use crate::service::{self, App};

/// A logged-in browser. Anything else is sent to the login page (by the catcher).
pub struct Browser<'r>(pub &'r SessionRecord);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Browser<'r> {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match req.guard::<&Caller>().await {
            Outcome::Success(Caller::Session(session)) => Outcome::Success(Browser(session)),
            Outcome::Success(_) => guard_failure(req, Error::Unauthorized(MISSING_CREDENTIAL)),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(s) => Outcome::Forward(s),
        }
    }
}

impl Browser<'_> {
    pub fn user(&self) -> ObjectId {
        self.0.user_id.clone()
    }

    /// Who the audit log says acted.
    pub fn actor(&self) -> Actor {
        Actor::session(&self.0.user_id)
    }
}

/// What every page about one website needs: the caller's access for `N` to the website in the path,
/// the logged-in browser, and the flash message of the last form post.
pub struct SitePage<'r, N: Need> {
    pub access: WebsiteAccess<N>,
    pub browser: Browser<'r>,
    pub flash: Option<FlashMessage<'r>>,
}

#[rocket::async_trait]
impl<'r, N: Need> FromRequest<'r> for SitePage<'r, N> {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let access = try_outcome!(req.guard::<WebsiteAccess<N>>().await);
        let browser = try_outcome!(req.guard::<Browser<'r>>().await);
        // `Option<FlashMessage>` never fails: no flash is `None`.
        let flash = req.guard::<Option<FlashMessage<'r>>>().await.succeeded().flatten();
        Outcome::Success(SitePage { access, browser, flash })
    }
}

impl<N: Need> SitePage<'_, N> {
    pub fn actor(&self) -> Actor {
        self.access.actor.clone()
    }

    /// One of the website's tabs: the website, whether the caller may change things, and `extra`.
    pub async fn render(&self, app: &App, website: &WebsiteId, name: &'static str, extra: Value) -> PageResult {
        let role = self.access.role;
        let shown = service::websites::get(app, website, role).await?;
        let ctx = merged(
            json!({"website": shown, "can_write": role != Role::Viewer, "is_owner": role == Role::Owner}),
            extra,
        );
        Ok(render(name, page(Some(self.browser.0), self.flash.as_ref(), ctx)))
    }
}

/// An error answered as a page: it is left for the catcher of its status, which renders the error
/// page (or, for a missing session, sends the browser to log in).
#[derive(Debug)]
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl<'r> Responder<'r, 'static> for PageError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.0.status();
        stash(req, self.0);
        Err(status)
    }
}

pub type PageResult<T = Template> = Result<T, PageError>;

/// A form with nothing but its CSRF token (a button).
#[derive(FromForm)]
pub struct ButtonForm {
    /// Already checked by `CsrfForm`; a form needs at least one field.
    pub csrf_token: String,
}

/// The context every page shares: who is logged in, their CSRF token, the flash message.
pub fn page(browser: Option<&SessionRecord>, flash: Option<&FlashMessage<'_>>, extra: Value) -> Value {
    let mut ctx = Map::new();
    if let Some(session) = browser {
        ctx.insert("user".into(), json!({"email": session.email, "name": session.name}));
        ctx.insert("csrf".into(), json!(session.csrf_token));
    }
    if let Some(f) = flash {
        ctx.insert("flash".into(), json!({"kind": f.kind(), "message": f.message()}));
    }
    merged(Value::Object(ctx), extra)
}

/// `base` with the fields of `extra` added (both JSON objects).
pub fn merged(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(fields), Value::Object(more)) = (&mut base, extra) {
        fields.extend(more);
    }
    base
}

pub fn render(name: &'static str, ctx: impl Serialize) -> Template {
    Template::render(name, ctx)
}

/// After a form post: back to `to`, with the outcome as a flash message.
pub fn back(to: String, outcome: Result<String, Error>) -> Flash<Redirect> {
    match outcome {
        Ok(message) => Flash::success(Redirect::to(to), message),
        Err(e @ (Error::Db(_) | Error::Pool(_) | Error::Internal(_))) => {
            tracing::error!(error = %e, "a settings form failed");
            Flash::error(Redirect::to(to), "Something went wrong on the server; try again")
        }
        Err(e) => Flash::error(Redirect::to(to), e.to_string()),
    }
}

pub fn routes() -> Vec<Route> {
    let mut all = routes![assets::static_file, assets::favicon, assets::tracking_script, session::home];
    all.extend(session::routes());
    all.extend(settings::routes());
    all.extend(integrations::routes());
    all.extend(team::routes());
    all.extend(revenue::routes());
    all.extend(dashboard::routes());
    all.extend(account::routes());
    all
}

pub fn catchers() -> Vec<Catcher> {
    errors::catchers()
}
