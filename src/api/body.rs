//! JSON request bodies: content type, the 64 KiB limit, and parse errors that say what to fix.

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::request::Request;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, data_failure};

/// A request body that was JSON-typed and within the limit. Whether it parsed is kept, so that each
/// route can answer a malformed body with its own message (the connect route's is fixed by §4, and the
/// parse error goes in the envelope's `detail`).
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
        let bytes = match read_within_limit(req, data).await {
            Ok(bytes) => bytes,
            Err(e) => return data_failure(req, e),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return data::Outcome::Success(JsonBody::Empty);
        }
        data::Outcome::Success(match serde_json::from_slice(&bytes) {
            Ok(value) => JsonBody::Value(value),
            // serde_json says what it expected and where: "expected `,` or `}` at line 1 column 19".
            Err(e) => JsonBody::Malformed(format!("Request body is not valid JSON: {e}")),
        })
    }
}

/// A body's bytes, within the JSON limit (64 KiB unless `limits.json` says otherwise); a larger one is a 413.
pub async fn read_within_limit<'r>(req: &'r Request<'_>, data: Data<'r>) -> Result<Vec<u8>, Error> {
    let limit = req.limits().get("json").unwrap_or_else(|| 64.kibibytes());
    let bytes = data
        .open(limit)
        .into_bytes()
        .await
        .map_err(|e| Error::BadRequest(format!("Could not read the request body: {e}")))?;
    if !bytes.is_complete() {
        return Err(Error::PayloadTooLarge(format!("Request body is larger than the {limit} limit")));
    }
    Ok(bytes.into_inner())
}

impl JsonBody {
    /// Deserializes into `T`; every failure is a 400 that names the problem: where the JSON broke, or which
    /// field is missing or has the wrong type and what it should be.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, Error> {
        let value = self.object().map(Value::Object)?;
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            // The path is `.` when the body as a whole is wrong (a missing field, an unknown one).
            if path == "." {
                Error::BadRequest(format!("Invalid request body: {inner}"))
            } else {
                Error::BadRequest(format!("Invalid request body: {path}: {inner}"))
            }
        })
    }

    /// Like `parse`, but an empty body (or a JSON `null`) means every field takes its default.
    pub fn parse_or_default<T: DeserializeOwned + Default>(self) -> Result<T, Error> {
        match self {
            Self::Empty | Self::Value(Value::Null) => Ok(T::default()),
            other => other.parse(),
        }
    }

    /// The body as a JSON object, for routes that read each field themselves (so each message names it).
    pub fn object(self) -> Result<Map<String, Value>, Error> {
        match self {
            Self::Empty => Err(Error::BadRequest("Request body is empty; send a JSON object".into())),
            Self::Malformed(message) => Err(Error::BadRequest(message)),
            Self::Value(Value::Object(map)) => Ok(map),
            Self::Value(other) => {
                Err(Error::BadRequest(format!("Request body must be a JSON object, not {}", kind(&other))))
            }
        }
    }
}

/// What a JSON value is, for messages: "a string", "a number", "true or false" …
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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
            Some(other) => return Err(Error::BadRequest(format!("{name} must be a string, not {}", kind(other)))),
        }
    }
    Ok(None)
}
