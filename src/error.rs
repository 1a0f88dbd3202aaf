//! The one error type that crosses module borders, its HTTP status, and where a failing guard leaves it
//! for the catchers. The JSON envelope is written by `api`, the HTML error page by `web`.

use std::sync::Mutex;

use rocket::http::{Method, Status};
use rocket::request::{self, Request};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    /// 400 whose message a route fixes (the contract's `stripeRak is required`) and whose `detail` says
    /// exactly what was wrong with the body (the JSON's syntax error and where; a field of the wrong type).
    #[error("{message} ({detail})")]
    BadBody { message: String, detail: String },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// 405 with `Allow`: the path exists, the method does not (the methods it has, comma-separated).
    #[error("This path does not answer {method}; it answers {allow}")]
    MethodNotAllowed { method: String, allow: String },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("Too many requests; retry after {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// 503 with `Retry-After`: an upstream asked us to slow down.
    #[error("{message}")]
    Unavailable { message: String, retry_after: u64 },
    #[error("{0}")]
    BadGateway(String),
    #[error("{0}")]
    GatewayTimeout(String),
    /// The disk is full or read-only: nothing was written (the transaction rolled back); reads go on,
    /// and writes work again once there is space.
    #[error("{0}")]
    Storage(&'static str),
    #[error("database error: {0}")]
    Db(rusqlite::Error),
    #[error("database pool error: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub const STORAGE_FULL: &str =
    "Storage is full: revlink could not save this and kept nothing of it; free disk space and try again";
pub const STORAGE_READ_ONLY: &str =
    "Storage is read-only: revlink could not save this and kept nothing of it; make its data directory writable";

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Self::Storage(STORAGE_FULL),
            Some(rusqlite::ErrorCode::ReadOnly) => Self::Storage(STORAGE_READ_ONLY),
            _ => Self::Db(e),
        }
    }
}

impl Error {
    pub fn internal(what: impl std::fmt::Display) -> Self {
        Self::Internal(what.to_string())
    }

    /// A copy for Rocket's own log line about a refused guard; internal detail stays out of it.
    fn log_copy(&self) -> Self {
        match self {
            Self::BadRequest(m) => Self::BadRequest(m.clone()),
            Self::BadBody { message, detail } => Self::BadBody { message: message.clone(), detail: detail.clone() },
            Self::Unauthorized(m) => Self::Unauthorized(m),
            Self::Storage(m) => Self::Storage(m),
            Self::Forbidden(m) => Self::Forbidden(m.clone()),
            Self::NotFound(m) => Self::NotFound(m.clone()),
            Self::Conflict(m) => Self::Conflict(m.clone()),
            Self::MethodNotAllowed { method, allow } => {
                Self::MethodNotAllowed { method: method.clone(), allow: allow.clone() }
            }
            Self::PayloadTooLarge(m) => Self::PayloadTooLarge(m.clone()),
            Self::UnsupportedMediaType(m) => Self::UnsupportedMediaType(m.clone()),
            Self::RateLimited { retry_after } => Self::RateLimited { retry_after: *retry_after },
            Self::Unavailable { message, retry_after } => {
                Self::Unavailable { message: message.clone(), retry_after: *retry_after }
            }
            Self::BadGateway(m) => Self::BadGateway(m.clone()),
            Self::GatewayTimeout(m) => Self::GatewayTimeout(m.clone()),
            Self::Db(_) | Self::Pool(_) | Self::Internal(_) => Self::Internal("logged with the request id".into()),
        }
    }

    pub fn status(&self) -> Status {
        match self {
            Self::BadRequest(_) | Self::BadBody { .. } => Status::BadRequest,
            Self::Unauthorized(_) => Status::Unauthorized,
            Self::Forbidden(_) => Status::Forbidden,
            Self::NotFound(_) => Status::NotFound,
            Self::Conflict(_) => Status::Conflict,
            Self::MethodNotAllowed { .. } => Status::MethodNotAllowed,
            Self::PayloadTooLarge(_) => Status::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => Status::UnsupportedMediaType,
            Self::RateLimited { .. } => Status::TooManyRequests,
            Self::Unavailable { .. } | Self::Storage(_) => Status::ServiceUnavailable,
            Self::BadGateway(_) => Status::BadGateway,
            Self::GatewayTimeout(_) => Status::GatewayTimeout,
            Self::Db(_) | Self::Pool(_) | Self::Internal(_) => Status::InternalServerError,
        }
    }

    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after } | Self::Unavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// What the client is told. Internal failures are opaque; the detail goes to the log.
    pub fn public_message(&self, request_id: &str) -> String {
        match self {
            Self::Db(_) | Self::Pool(_) | Self::Internal(_) => {
                format!("Internal server error; quote request id {request_id} when reporting it")
            }
            Self::BadBody { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

/// A per-request id, logged with every 5xx and sent back as `X-Request-Id`.
pub struct RequestId(pub String);

pub fn request_id<'r>(req: &'r Request<'_>) -> &'r str {
    &req.local_cache(|| RequestId(hex::encode(rand::random::<[u8; 8]>()))).0
}

impl Error {
    /// The status and the message a client may see; a 5xx is logged here with its detail.
    pub fn describe(&self, req: &Request<'_>) -> (Status, String) {
        let status = self.status();
        let id = request_id(req);
        if status.code >= 500 {
            tracing::error!(request_id = id, method = %req.method(), path = %req.uri().path(), error = %self, "request failed");
        }
        (status, self.public_message(id))
    }
}

/// Where a failing guard leaves its error, so that the catcher Rocket then calls can answer with it.
#[derive(Default)]
struct GuardError(Mutex<Option<Error>>);

/// Fails a guard with `err`: the status goes to Rocket, the error itself to the catcher.
pub fn guard_failure<T>(req: &Request<'_>, err: Error) -> request::Outcome<T, Error> {
    let (status, copy) = (err.status(), err.log_copy());
    stash(req, err);
    request::Outcome::Error((status, copy))
}

/// The data-guard twin of `guard_failure`.
pub fn data_failure<'r, T>(req: &'r Request<'_>, err: Error) -> rocket::data::Outcome<'r, T, Error> {
    let (status, copy) = (err.status(), err.log_copy());
    stash(req, err);
    rocket::data::Outcome::Error((status, copy))
}

/// Leaves `err` for the catcher of its status (a responder that fails with the status does this).
pub fn stash(req: &Request<'_>, err: Error) {
    let slot = req.local_cache(GuardError::default);
    if let Ok(mut slot) = slot.0.lock() {
        slot.get_or_insert(err);
    }
}

/// What a catcher answers with: the error a guard or responder left, or one made from the status
/// when Rocket failed on its own (no route, an unread body). A path that exists, asked with a method it
/// does not answer, is a 405 naming the ones it does.
pub fn caught(status: Status, req: &Request<'_>) -> Error {
    let left = req.local_cache(GuardError::default).0.lock().ok().and_then(|mut s| s.take());
    left.or_else(|| method_not_allowed(status, req)).unwrap_or_else(|| Error::from_status(status, req))
}

/// No route ran: either none matched (404), or Rocket could not read the request (400: an unknown
/// method such as QUERY, which Rocket hands the catcher as GET). Either is a 405 when the path is one
/// that some route answers with another method.
fn method_not_allowed(status: Status, req: &Request<'_>) -> Option<Error> {
    if req.route().is_some() || !matches!(status.code, 400 | 404) {
        return None;
    }
    let allowed = allowed_methods(req);
    if allowed.is_empty() || (status.code == 404 && allowed.contains(&req.method())) {
        return None;
    }
    let method = if status.code == 400 { "this method".to_owned() } else { req.method().to_string() };
    let mut names: Vec<&str> = allowed.iter().copied().map(Method::as_str).collect();
    names.sort_unstable();
    Some(Error::MethodNotAllowed { method, allow: names.join(", ") })
}

/// The methods of the mounted routes whose path template matches the request's path (HEAD with GET,
/// which Rocket answers for every GET route). `<name..>` takes the rest of the path.
fn allowed_methods(req: &Request<'_>) -> Vec<Method> {
    let segments: Vec<&str> = req.uri().path().segments().collect();
    let mut methods = Vec::new();
    for route in req.rocket().routes() {
        let template: Vec<&str> = route.uri.path().split('/').filter(|s| !s.is_empty()).collect();
        let matches = match template.split_last() {
            Some((last, head)) if last.ends_with("..>") => {
                segments.len() >= head.len() && head.iter().zip(&segments).all(|(t, s)| segment_matches(t, s))
            }
            _ => template.len() == segments.len() && template.iter().zip(&segments).all(|(t, s)| segment_matches(t, s)),
        };
        if matches && !methods.contains(&route.method) {
            methods.push(route.method);
            if route.method == Method::Get && !methods.contains(&Method::Head) {
                methods.push(Method::Head);
            }
        }
    }
    methods
}

fn segment_matches(template: &str, segment: &str) -> bool {
    (template.starts_with('<') && !segment.is_empty()) || template == segment
}

/// Whether an error answers as the JSON envelope rather than a page: always under `/api` (the contract:
/// no HTML ever reaches an API client); elsewhere when the request's `Accept` prefers JSON to HTML (a
/// page's script polling `/dashboard/live`, a scraper asking for JSON). A browser, or a client that says
/// nothing, gets a page.
pub fn answers_json(req: &Request<'_>) -> bool {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return true;
    }
    // Rocket's pick: the highest weight, the first listed of equals.
    req.accept().is_some_and(|accept| accept.preferred().media_type().is_json())
}

impl Error {
    /// The error for a failure that left none (Rocket's own: no route, unread body).
    fn from_status(status: Status, req: &Request<'_>) -> Self {
        let message = match status.code {
            404 => format!("No route for {} {}", req.method(), req.uri().path()),
            code => format!("{} ({code})", default_message(status)),
        };
        match status.code {
            400 => Self::BadRequest(message),
            401 => Self::Unauthorized(MISSING_CREDENTIAL),
            403 => Self::Forbidden(message),
            404 => Self::NotFound(message),
            413 => Self::PayloadTooLarge(message),
            415 => Self::UnsupportedMediaType(message),
            429 => Self::RateLimited { retry_after: 60 },
            code if code >= 500 => Self::Internal(format!("unhandled status {code} for {}", req.uri())),
            _ => Self::BadRequest(message),
        }
    }
}

/// What a 401 says when no credential came: the contract's "Missing bearer token".
pub const MISSING_CREDENTIAL: &str = "Missing bearer token";

/// The message for a status when nothing more is known.
fn default_message(status: Status) -> &'static str {
    match status.code {
        400 => "Bad request",
        401 => MISSING_CREDENTIAL,
        403 => "Forbidden",
        413 => "Request body is too large",
        415 => "Unsupported content type; send JSON",
        422 => "The request could not be processed",
        429 => "Too many requests",
        _ if status.code >= 500 => "Internal server error",
        _ => "Request failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_detail() {
        let e = Error::Internal("/secret/path: SQL near SELECT".into());
        let msg = e.public_message("abc");
        assert!(!msg.contains("SQL") && !msg.contains("/secret"));
        assert!(msg.contains("abc"));
    }
}
