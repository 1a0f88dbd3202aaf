//! The HTML face of errors outside `/api`: the catchers registered at `/`. A browser gets a page (or, without a
//! session, the login page); a client whose `Accept` prefers JSON gets the API's envelope instead.

use rocket::http::{Header, Method, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket::{Catcher, Either, catch, catchers};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::error::{Error, answers_json, caught};
use crate::web::render;

/// An error page with its status and the headers the status calls for (`Allow` on a 405, `Retry-After`).
pub struct ErrorPage {
    status: Status,
    page: Template,
    headers: Vec<Header<'static>>,
}

impl<'r> Responder<'r, 'static> for ErrorPage {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = self.page.respond_to(req)?;
        res.set_status(self.status);
        for header in self.headers {
            res.set_header(header);
        }
        Ok(res)
    }
}

/// Every failure outside `/api` becomes a page: the error a guard or handler left, or Rocket's own. A client
/// that prefers JSON gets the error as the API writes it (`Error` answers as the envelope then).
#[catch(default)]
fn page_catcher(status: Status, req: &Request<'_>) -> Either<Error, Either<ErrorPage, Redirect>> {
    let err = caught(status, req);
    if answers_json(req) { Either::Left(err) } else { Either::Right(error_page(req, &err)) }
}

pub fn catchers() -> Vec<Catcher> {
    catchers![page_catcher]
}

/// The HTML answer to a failed page request: the login page for a missing session, else an error page.
fn error_page(req: &Request<'_>, err: &Error) -> Either<ErrorPage, Redirect> {
    if err.status() == Status::Unauthorized {
        let next = req.uri().path().to_string();
        let target = if req.method() == Method::Get && next != "/" {
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
        405 => "Not available this way",
        429 => "Too many requests",
        code if code >= 500 => "Something went wrong",
        _ => "That did not work",
    };
    let mut headers = Vec::new();
    if let Some(secs) = err.retry_after() {
        headers.push(Header::new("Retry-After", secs.to_string()));
    }
    if let Error::MethodNotAllowed { allow, .. } = err {
        headers.push(Header::new("Allow", allow.clone()));
    }
    let page = render("error.html", json!({"code": status.code, "title": title, "message": message}));
    Either::Left(ErrorPage { status, page, headers })
}
