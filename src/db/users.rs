//! Users: the people who own and join websites.

use rusqlite::{Connection, params};

use crate::db::{self, is_unique_violation, optional};
use crate::domain::ObjectId;
use crate::domain::account::User;
use crate::error::{Error, Result};

pub fn create(conn: &Connection, email: &str, name: Option<&str>, password_hash: Option<&str>) -> Result<ObjectId> {
    let id = ObjectId::generate();
    conn.execute(
        "INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, email, name, password_hash, db::now()],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::Conflict(format!("A user with email {email} already exists"))
        } else {
            e.into()
        }
    })?;
    Ok(id)
}

pub fn find_by_email(conn: &Connection, email: &str) -> Result<Option<User>> {
    optional(conn.query_row("SELECT id, email, name FROM users WHERE email = ?1", [email], |r| {
        Ok(User { id: r.get(0)?, email: r.get(1)?, name: r.get(2)? })
    }))
}

pub fn find(conn: &Connection, id: &ObjectId) -> Result<Option<User>> {
    optional(conn.query_row("SELECT id, email, name FROM users WHERE id = ?1", [id], |r| {
        Ok(User { id: r.get(0)?, email: r.get(1)?, name: r.get(2)? })
    }))
}

/// Like `find_by_email`, but a missing user is a client error that names the address.
pub fn require_by_email(conn: &Connection, email: &str) -> Result<User> {
    find_by_email(conn, email)?.ok_or_else(|| Error::NotFound(format!("No user with email {email}")))
}

/// The user and their password hash (`None` for users created without a password).
pub fn credentials(conn: &Connection, email: &str) -> Result<Option<(ObjectId, Option<String>)>> {
    optional(
        conn.query_row("SELECT id, password_hash FROM users WHERE email = ?1", [email], |r| Ok((r.get(0)?, r.get(1)?))),
    )
}

pub fn password_hash(conn: &Connection, id: &ObjectId) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT password_hash FROM users WHERE id = ?1", [id], |r| r.get(0))?)
}

pub fn set_password(conn: &Connection, id: &ObjectId, hash: &str) -> Result<()> {
    conn.execute("UPDATE users SET password_hash = ?1 WHERE id = ?2", params![hash, id])?;
    Ok(())
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
}
