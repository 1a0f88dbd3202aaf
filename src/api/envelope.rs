//! The error envelope `{"status":"error","error":{"code":…,"message":…}}`: how every `Error` answers
//! on the JSON API, and the catchers registered at `/api` for what Rocket refuses on its own.

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{Catcher, catch, catchers};
use serde_json::json;

use crate::error::{Error, answers_json, caught, stash};

/// The envelope for a status, with a message.
pub fn envelope(status: Status, message: &str) -> String {
    json!({"status": "error", "error": {"code": status.code, "message": message}}).to_string()
}

/// The envelope with a `detail` beside the message: what exactly was wrong (where the JSON broke), when a
/// route's message is fixed by the contract. Clients that read only `code` and `message` see no change.
fn envelope_with_detail(status: Status, message: &str, detail: &str) -> String {
    json!({"status": "error", "error": {"code": status.code, "message": message, "detail": detail}}).to_string()
}

/// Under `/api`, or for a client that prefers JSON, the envelope; elsewhere the error is left for the page
/// catcher, so that a browser never sees JSON (`/metrics` refused, for one).
impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        if !answers_json(req) {
            let status = self.status();
            stash(req, self);
            return Err(status);
        }
        let (status, message) = self.describe(req);
        let body = match &self {
            Error::BadBody { detail, .. } => envelope_with_detail(status, &message, detail),
            _ => envelope(status, &message),
        };
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
/// becomes the envelope; a guard's own error, left in the request, supplies the message; a path asked
/// with a method it does not answer is a 405 naming the ones it does (see `caught`).
#[catch(default)]
fn api_catcher(status: Status, req: &Request<'_>) -> Error {
    caught(status, req)
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
