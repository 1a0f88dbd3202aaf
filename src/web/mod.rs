//! The settings pages: server-rendered HTML (Tera), form posts answered with a redirect and a flash
//! message, and the HTML face of errors. Every page acts through the same guards as the API.

pub mod account;
pub mod assets;
pub mod forms;
pub mod revenue;
pub mod session;
pub mod settings;

use rocket::http::Status;
use rocket::request::{FlashMessage, FromRequest, Outcome, Request};
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, routes};
use rocket_dyn_templates::Template;
use serde_json::{Map, Value, json};

use crate::auth::{Caller, MISSING_TOKEN};
use crate::db::sessions::SessionRecord;
use crate::error::{Error, guard_failure};

/// A logged-in browser. Anything else is sent to the login page (by the catcher).
pub struct Browser<'r>(pub &'r SessionRecord);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Browser<'r> {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match req.guard::<&Caller>().await {
            Outcome::Success(Caller::Session(session)) => Outcome::Success(Browser(session)),
            Outcome::Success(_) => guard_failure(req, Error::Unauthorized(MISSING_TOKEN)),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(s) => Outcome::Forward(s),
        }
    }
}

impl Browser<'_> {
    /// Who the audit log says acted.
    pub fn actor(&self) -> crate::db::audit::Actor {
        crate::auth::session_actor(self.0)
    }
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

pub fn render(name: &'static str, ctx: Value) -> Template {
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
    let mut all = routes![assets::static_file, session::home];
    all.extend(session::routes());
    all.extend(settings::routes());
    all.extend(revenue::routes());
    all.extend(account::routes());
    all
}

/// The HTML answer to a failed page request: the login page for a missing session, else an error page.
pub fn error_page(req: &Request<'_>, err: &Error) -> Either<Template, Redirect> {
    if err.status() == Status::Unauthorized {
        let next = req.uri().path().to_string();
        let target = if req.method() == rocket::http::Method::Get && next != "/" {
            format!("/login?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>())
        } else {
            "/login".to_owned()
        };
        return Either::Right(Redirect::to(target));
    }
    let (status, message) = err.describe(req);
    let title = match status.code {
        403 => "Not allowed",
        404 => "Not found",
        429 => "Too many requests",
        code if code >= 500 => "Something went wrong",
        _ => "That did not work",
    };
    Either::Left(render("error.html", json!({"code": status.code, "title": title, "message": message})))
}
