//! JSON request bodies: content type, the 64 KiB limit, and parse errors that say what to fix.

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::request::Request;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, data_failure};

/// A request body that was JSON-typed and within the limit. Whether it parsed is kept, so that each
/// route can answer a malformed body with its own message (the connect route's is fixed by §4).
pub enum JsonBody {
    Empty,
    Malformed(String),
    Value(serde_json::Value),
}

#[rocket::async_trait]
impl<'r> FromData<'r> for JsonBody {
    type Error = Error;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, Error> {
        if let Some(ct) = req.content_type().filter(|ct| !ct.is_json()) {
            let msg =
                format!("Unsupported content type {ct}; send the body as JSON with Content-Type: application/json");
            return data_failure(req, Error::UnsupportedMediaType(msg));
        }
        let limit = req.limits().get("json").unwrap_or_else(|| 64.kibibytes());
        let bytes = match data.open(limit).into_bytes().await {
            Ok(b) => b,
            Err(e) => return data_failure(req, Error::BadRequest(format!("Could not read the request body: {e}"))),
        };
        if !bytes.is_complete() {
            return data_failure(req, Error::PayloadTooLarge(format!("Request body is larger than the {limit} limit")));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return data::Outcome::Success(JsonBody::Empty);
        }
        data::Outcome::Success(match serde_json::from_slice(&bytes) {
            Ok(value) => JsonBody::Value(value),
            Err(e) => JsonBody::Malformed(format!("Request body is not valid JSON ({e})")),
        })
    }
}

impl JsonBody {
    /// Deserializes into `T`; every failure is a 400 that names the problem.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, Error> {
        let value = match self {
            Self::Empty => return Err(Error::BadRequest("Request body is empty; send a JSON object".into())),
            Self::Malformed(message) => return Err(Error::BadRequest(message)),
            Self::Value(value) => value,
        };
        if !value.is_object() {
            return Err(Error::BadRequest("Request body must be a JSON object".into()));
        }
        serde_json::from_value(value).map_err(|e| Error::BadRequest(format!("Invalid request body: {e}")))
    }

    /// Like `parse`, but an empty body (or a JSON `null`) means every field takes its default.
    pub fn parse_or_default<T: DeserializeOwned + Default>(self) -> Result<T, Error> {
        match self {
            Self::Empty | Self::Value(serde_json::Value::Null) => Ok(T::default()),
            other => other.parse(),
        }
    }
}

/// The first of `names` that `body` has (aliases, in order of preference), as trimmed text of at most `max`
/// characters: `None` when none is there, or it is null or blank; a 400 naming the field when it is not a string,
/// is longer, or holds control characters.
pub fn text(body: &Map<String, Value>, names: &[&str], max: usize) -> Result<Option<String>, Error> {
    for name in names {
        match body.get(*name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.trim().is_empty() => {}
            Some(Value::String(s)) if s.chars().any(char::is_control) => {
                return Err(Error::BadRequest(format!("{name} must not contain control characters")));
            }
            Some(Value::String(s)) if s.chars().count() <= max => return Ok(Some(s.trim().to_owned())),
            Some(Value::String(_)) => {
                return Err(Error::BadRequest(format!("{name} must be at most {max} characters")));
            }
            Some(_) => return Err(Error::BadRequest(format!("{name} must be a string"))),
        }
    }
    Ok(None)
}
