//! Query parameters, strictly: a parameter sent twice, or one that does not parse (`limit=abc`), is a
//! 400 that names it, never silently treated as missing. Routes take each parameter as
//! `Option<Result<T, Errors>>` and pass it through `param`.

use rocket::form::{Errors, error::ErrorKind};

use crate::error::Error;

/// The parameter's value, `None` when absent; `hint` says what a valid value looks like.
pub fn param<T>(name: &str, value: Option<Result<T, Errors<'_>>>, hint: &str) -> Result<Option<T>, Error> {
    match value {
        Some(Ok(v)) => Ok(Some(v)),
        // Rocket reports an absent parameter of a `Result` field as a `Missing` error.
        None => Ok(None),
        Some(Err(errors)) if errors.iter().all(|e| matches!(e.kind, ErrorKind::Missing)) => Ok(None),
        Some(Err(errors)) if errors.iter().any(|e| matches!(e.kind, ErrorKind::Duplicate)) => {
            Err(Error::BadRequest(format!("Query parameter {name} was sent more than once; send it once")))
        }
        Some(Err(_)) => Err(Error::BadRequest(format!("{name} must be {hint}"))),
    }
}
