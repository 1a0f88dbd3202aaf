//! Browser sessions: the cookie carries a random id, the database its SHA-256, the user and the
//! CSRF token that every browser write must echo.

use rusqlite::{Connection, params};
use time::OffsetDateTime;

use crate::db::{self, optional};
use crate::domain::ObjectId;
use crate::domain::account::{NewSession, SessionRecord};
use crate::domain::secret_token::hash_secret;
use crate::error::Result;

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    hex::encode(buf)
}

pub fn create(conn: &Connection, user: &ObjectId, lifetime_secs: i64) -> Result<NewSession> {
    let cookie_value = random_hex(32);
    let csrf_token = random_hex(32);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let expires = now + lifetime_secs;
    // Expired sessions are swept here, where new ones come in.
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
    conn.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![&hash_secret(&cookie_value)[..], user, csrf_token, db::now(), expires],
    )?;
    Ok(NewSession { cookie_value, csrf_token })
}

/// The live session for a cookie value; expired ones are gone.
pub fn find(conn: &Connection, cookie_value: &str) -> Result<Option<SessionRecord>> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    optional(
        conn.prepare_cached(
            "SELECT s.user_id, s.csrf_token, u.email, u.name FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id_hash = ?1 AND s.expires_at > ?2",
        )?
        .query_row(params![&hash_secret(cookie_value)[..], now], |r| {
            Ok(SessionRecord { user_id: r.get(0)?, csrf_token: r.get(1)?, email: r.get(2)?, name: r.get(3)? })
        }),
    )
}

pub fn delete(conn: &Connection, cookie_value: &str) -> Result<()> {
    conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [&hash_secret(cookie_value)[..]])?;
    Ok(())
}

/// Ends every other session of the user (after a password change).
pub fn delete_others(conn: &Connection, user: &ObjectId, keep_cookie_value: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND id_hash <> ?2",
        params![user, &hash_secret(keep_cookie_value)[..]],
    )?;
    Ok(())
}
