//! Form posts from the settings pages: the session's CSRF token must come back in `csrf_token`.

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::RawStr;
use rocket::request::Request;

use crate::auth::{CSRF_REFUSED, ExpectedCsrf, constant_time_eq};
use crate::error::{Error, data_failure};

/// A form body whose `csrf_token` matched the session's; the other fields parse into `T`.
pub struct CsrfForm<T>(pub T);

/// The raw fields of a form body, once its CSRF token matched.
pub async fn checked_fields<'r>(req: &'r Request<'_>, data: Data<'r>) -> Result<String, Error> {
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
