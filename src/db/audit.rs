//! The audit log: who changed what and when. Never holds a secret.

use rusqlite::{Connection, params};

use crate::db;
use crate::domain::{Actor, ObjectId};
use crate::error::Result;

pub fn record(
    conn: &Connection,
    actor: &Actor,
    website_id: Option<&ObjectId>,
    action: &str,
    detail: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_log (at, actor_kind, actor_id, user_id, website_id, action, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![db::now(), actor.kind, actor.id, actor.user_id, website_id, action, detail],
    )?;
    Ok(())
}
