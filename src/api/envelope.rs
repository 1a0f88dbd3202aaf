//! The error envelope `{"status":"error","error":{"code":…,"message":…}}`: how every `Error` answers
//! on the JSON API, and the catchers registered at `/api` for what Rocket refuses on its own.

use std::io::Cursor;

use rocket::http::{ContentType, Header, Method, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{Catcher, catch, catchers};
use serde_json::json;

use crate::error::{Error, caught};

/// The envelope for a status, with a message.
pub fn envelope(status: Status, message: &str) -> String {
    json!({"status": "error", "error": {"code": status.code, "message": message}}).to_string()
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let (status, message) = self.describe(req);
        let body = envelope(status, &message);
        let mut res = Response::build();
        res.status(status).header(ContentType::JSON).sized_body(body.len(), Cursor::new(body));
        if let Some(secs) = self.retry_after() {
            res.header(Header::new("Retry-After", secs.to_string()));
        }
        if let Error::MethodNotAllowed { allow, .. } = &self {
            res.header(Header::new("Allow", allow.clone()));
        }
        Ok(res.finalize())
    }
}

/// Every failure Rocket itself produces under `/api` (unknown route, unread body, guard refusals)
/// becomes the envelope; a guard's own error, left in the request, supplies the message. A path that
/// exists asked with a method it does not answer is a 405 naming the ones it does.
#[catch(default)]
fn api_catcher(status: Status, req: &Request<'_>) -> Error {
    // No route ran: either none matched (404), or Rocket could not read the request (400: an unknown
    // method such as QUERY, which Rocket hands the catcher as GET).
    if req.route().is_none() && matches!(status.code, 400 | 404) {
        let allowed = allowed_methods(req);
        let method = if status.code == 400 { "this method".to_owned() } else { req.method().to_string() };
        if !allowed.is_empty() && (status.code == 400 || !allowed.contains(&req.method())) {
            let mut names: Vec<&str> = allowed.iter().copied().map(Method::as_str).collect();
            names.sort_unstable();
            return Error::MethodNotAllowed { method, allow: names.join(", ") };
        }
    }
    caught(status, req)
}

/// The methods of the mounted routes whose path template matches the request's path (HEAD with GET,
/// which Rocket answers for every GET route).
fn allowed_methods(req: &Request<'_>) -> Vec<Method> {
    let segments: Vec<&str> = req.uri().path().segments().collect();
    let mut methods = Vec::new();
    for route in req.rocket().routes().filter(|r| r.uri.base().starts_with("/api")) {
        let template: Vec<&str> = route.uri.path().split('/').filter(|s| !s.is_empty()).collect();
        let matches = template.len() == segments.len()
            && template.iter().zip(&segments).all(|(t, s)| (t.starts_with('<') && !s.is_empty()) || t == s);
        if matches && !methods.contains(&route.method) {
            methods.push(route.method);
            if route.method == Method::Get && !methods.contains(&Method::Head) {
                methods.push(Method::Head);
            }
        }
    }
    methods
}

pub fn catchers() -> Vec<Catcher> {
    catchers![api_catcher]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_integer_code() {
        let v: serde_json::Value = serde_json::from_str(&envelope(Status::NotFound, "x")).unwrap();
        assert_eq!(v["error"]["code"], 404);
        assert_eq!(v["status"], "error");
    }
}
