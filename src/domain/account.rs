//! People and their browser sessions.

use crate::domain::ObjectId;
use crate::error::{Error, Result};

/// A person who owns or joins websites.
pub struct User {
    pub id: ObjectId,
    pub email: String,
    pub name: Option<String>,
}

/// Trims and lower-cases an email address, refusing anything that is not one.
/// The longest email address accepted.
pub const MAX_EMAIL_LEN: usize = 254;

pub fn parse_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(Error::BadRequest("email is required".into()));
    }
    // RFC 5321's limit on a path; the crate checks the parts, not the whole.
    if email.chars().count() > MAX_EMAIL_LEN {
        return Err(Error::BadRequest(format!("Invalid email address: at most {MAX_EMAIL_LEN} characters")));
    }
    if !email_address::EmailAddress::is_valid(&email) {
        return Err(Error::BadRequest(format!("Invalid email address: {email:?}")));
    }
    Ok(email)
}

/// A live browser session: its user, and the CSRF token every write from it must echo.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user_id: ObjectId,
    pub csrf_token: String,
    pub email: String,
    pub name: Option<String>,
}

/// A new session's cookie value (shown to the browser only) and its CSRF token.
pub struct NewSession {
    pub cookie_value: String,
    pub csrf_token: String,
}
