//! CSRF: a browser's write must echo its session's token, in the `X-CSRF-Token` header (the pages'
//! JavaScript) or, for an HTML form post, in the `csrf_token` field that `CsrfForm` checks.

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{Method, RawStr};
use rocket::request::{FromRequest, Outcome, Request};

use crate::crypto::constant_time_eq;
use crate::error::{Error, data_failure, guard_failure};

pub const CSRF_HEADER: &str = "X-CSRF-Token";
pub const CSRF_REFUSED: &str = "Missing or wrong CSRF token; reload the page and try again";

/// The CSRF token a form post must carry, left by the guard for the form's data guard.
pub struct ExpectedCsrf(pub Option<String>);

pub const CROSS_SITE: &str = "This request was sent from another website";

/// Checks a session's write. A browser that says the request comes from another site (`Sec-Fetch-Site:
/// cross-site`, or an `Origin` that is neither this request's host nor `public_url`'s) is refused
/// first. JSON routes (under `/api/`) take the token only in the header; a page's form post may carry
/// it in its body instead, which its `CsrfForm` data guard compares with what is left here.
pub fn check(req: &Request<'_>, expected: &str, base_url: &str) -> Result<(), Error> {
    if matches!(req.method(), Method::Get | Method::Head | Method::Options) {
        return Ok(());
    }
    if from_another_site(req, base_url) {
        return Err(Error::Forbidden(CROSS_SITE.into()));
    }
    if let Some(sent) = req.headers().get_one(CSRF_HEADER) {
        return if constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(Error::Forbidden(CSRF_REFUSED.into()))
        };
    }
    let page_form = req.method() == Method::Post
        && req.content_type().is_some_and(|ct| ct.is_form())
        && !req.uri().path().starts_with("/api/");
    if page_form {
        req.local_cache(|| ExpectedCsrf(Some(expected.to_owned())));
        return Ok(());
    }
    Err(Error::Forbidden(CSRF_REFUSED.into()))
}

/// Whether the browser says the request was made by another site.
fn from_another_site(req: &Request<'_>, base_url: &str) -> bool {
    if req.headers().get_one("Sec-Fetch-Site") == Some("cross-site") {
        return true;
    }
    let Some(origin) = req.headers().get_one("Origin") else { return false };
    let authority = |url: &str| url.split_once("://").map(|(_, rest)| rest.trim_end_matches('/').to_ascii_lowercase());
    let Some(origin) = authority(origin) else { return true }; // "null": a sandboxed or opaque origin
    let host = req.headers().get_one("Host").map(str::to_ascii_lowercase);
    host.as_deref() != Some(origin.as_str()) && authority(base_url).as_deref() != Some(origin.as_str())
}

/// A form body whose `csrf_token` matched the session's; the other fields parse into `T`.
pub struct CsrfForm<T>(pub T);

/// The raw fields of a form body, once its CSRF token matched.
async fn checked_fields<'r>(req: &'r Request<'_>, data: Data<'r>) -> Result<String, Error> {
    let expected = req.local_cache(|| ExpectedCsrf(None)).0.clone();
    if !req.content_type().is_some_and(|ct| ct.is_form()) {
        return Err(Error::UnsupportedMediaType("Send the form as application/x-www-form-urlencoded".into()));
    }
    let limit = req.limits().get("form").unwrap_or_else(|| 32.kibibytes());
    let body =
        data.open(limit).into_string().await.map_err(|e| Error::BadRequest(format!("Could not read the form: {e}")))?;
    if !body.is_complete() {
        return Err(Error::PayloadTooLarge(format!("The form is larger than the {limit} limit")));
    }
    let body = body.into_inner();
    let sent = form_urlencoded::parse(body.as_bytes()).find(|(k, _)| k == "csrf_token").map(|(_, v)| v.into_owned());
    match (expected, sent) {
        (Some(expected), Some(sent)) if constant_time_eq(expected.as_bytes(), sent.as_bytes()) => Ok(body),
        _ => Err(Error::Forbidden(CSRF_REFUSED.into())),
    }
}

#[rocket::async_trait]
impl<'r, T: for<'a> FromForm<'a> + Send + 'static> FromData<'r> for CsrfForm<T> {
    type Error = Error;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, Error> {
        let body = match checked_fields(req, data).await {
            Ok(body) => body,
            Err(e) => return data_failure(req, e),
        };
        match Form::<T>::parse_encoded(RawStr::new(&body)) {
            Ok(value) => data::Outcome::Success(CsrfForm(value)),
            Err(errors) => data_failure(req, Error::BadRequest(format!("The form is incomplete: {errors}"))),
        }
    }
}

/// Refuses a form post that a browser says came from another site (`Sec-Fetch-Site: cross-site`).
/// The forms that work without a session (login, setup, invitation) have no CSRF token to check,
/// and this keeps another site from logging a visitor into an account of its choosing.
pub struct SameSiteForm;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SameSiteForm {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match req.headers().get_one("Sec-Fetch-Site") {
            Some("cross-site") => {
                guard_failure(req, Error::Forbidden("This form was sent from another website".into()))
            }
            _ => Outcome::Success(SameSiteForm),
        }
    }
}
