//! Access tokens (`dft_`) and website keys (`df_`), stored only as SHA-256 hashes.

use rusqlite::{Connection, Row, TransactionBehavior, params};
use time::OffsetDateTime;

use crate::db::{self, audit, optional};
use crate::domain::credentials::{AccessTokenView, KeyRecord, TokenRecord, WebsiteKeyView};
use crate::domain::secret_token::{NewSecret, TokenKind};
use crate::domain::{Actor, ObjectId, PermissionSet};
use crate::error::{Error, Result};

pub const MAX_TOKENS_PER_USER: i64 = 20;
pub const MAX_KEYS_PER_WEBSITE: i64 = 10;
/// `lastUsedAt` is written at most this often per credential, so reads stay reads.
const TOUCH_INTERVAL_SECS: i64 = 60;

fn json_column<T: serde::de::DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, e.into()))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

fn token_view(row: &Row<'_>) -> rusqlite::Result<AccessTokenView> {
    Ok(AccessTokenView {
        id: row.get(0)?,
        name: row.get(1)?,
        display_key: row.get(2)?,
        scope: "user",
        permissions: json_column(row, 3)?,
        website_ids: json_column(row, 4)?,
        last_used_at: row.get(5)?,
        created_at: row.get(6)?,
        key: None,
    })
}

const TOKEN_COLUMNS: &str = "id, name, display_key, permissions, website_ids, last_used_at, created_at";

pub fn create_access_token(
    conn: &mut Connection,
    user: &ObjectId,
    name: Option<&str>,
    permissions: &PermissionSet,
    website_ids: &[ObjectId],
    actor: &Actor,
) -> Result<AccessTokenView> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let count: i64 = tx.query_row("SELECT COUNT(*) FROM access_tokens WHERE user_id = ?1", [user], |r| r.get(0))?;
    if count >= MAX_TOKENS_PER_USER {
        return Err(Error::BadRequest(format!(
            "Token limit reached: at most {MAX_TOKENS_PER_USER} access tokens per user; delete one first"
        )));
    }
    for website in website_ids {
        if crate::db::websites::role_of(&tx, website, user)?.is_none() {
            return Err(Error::BadRequest(format!("websiteIds: {website} is not one of your websites")));
        }
    }
    let secret = NewSecret::generate(TokenKind::Account);
    let id = ObjectId::generate();
    let now = db::now();
    tx.execute(
        "INSERT INTO access_tokens (id, user_id, name, token_hash, display_key, permissions, website_ids, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id,
            user,
            name,
            secret.hash(),
            secret.display_key(),
            to_json(permissions)?,
            to_json(&website_ids)?,
            now
        ],
    )?;
    audit::record(&tx, actor, None, "access_token.create", id.as_str())?;
    tx.commit()?;
    Ok(AccessTokenView {
        id,
        name: name.map(str::to_owned),
        display_key: secret.display_key(),
        scope: "user",
        permissions: permissions.clone(),
        website_ids: website_ids.to_vec(),
        last_used_at: None,
        created_at: now,
        key: Some(secret.into_raw()),
    })
}

pub fn list_access_tokens(conn: &Connection, user: &ObjectId) -> Result<Vec<AccessTokenView>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE user_id = ?1 ORDER BY created_at, id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([user], token_view)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn delete_access_token(conn: &mut Connection, user: &ObjectId, id: &ObjectId, actor: &Actor) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let removed = tx.execute("DELETE FROM access_tokens WHERE id = ?1 AND user_id = ?2", params![id, user])?;
    if removed == 0 {
        return Err(Error::NotFound("Access token not found".into()));
    }
    audit::record(&tx, actor, None, "access_token.delete", id.as_str())?;
    tx.commit()?;
    Ok(())
}

pub fn find_token(conn: &Connection, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
    optional(
        conn.prepare_cached(
            "SELECT id, user_id, permissions, website_ids, last_used_at FROM access_tokens WHERE token_hash = ?1",
        )?
        .query_row([&hash[..]], |r| {
            Ok(TokenRecord {
                id: r.get(0)?,
                user_id: r.get(1)?,
                permissions: json_column(r, 2)?,
                website_ids: json_column(r, 3)?,
                last_used_at: r.get(4)?,
            })
        }),
    )
}

pub fn find_key(conn: &Connection, hash: &[u8; 32]) -> Result<Option<KeyRecord>> {
    optional(
        conn.prepare_cached("SELECT id, website_id, last_used_at FROM website_keys WHERE key_hash = ?1")?
            .query_row([&hash[..]], |r| {
                Ok(KeyRecord { id: r.get(0)?, website_id: r.get(1)?, last_used_at: r.get(2)? })
            }),
    )
}

/// True when `last_used_at` is missing or older than the touch interval.
fn is_stale(last_used_at: Option<&str>) -> bool {
    let Some(text) = last_used_at else { return true };
    let parsed = OffsetDateTime::parse(text, &time::format_description::well_known::Iso8601::DEFAULT);
    parsed.map_or(true, |t| (OffsetDateTime::now_utc() - t).whole_seconds() >= TOUCH_INTERVAL_SECS)
}

pub fn touch_token(conn: &Connection, token: &TokenRecord) -> Result<()> {
    if is_stale(token.last_used_at.as_deref()) {
        conn.prepare_cached("UPDATE access_tokens SET last_used_at = ?1 WHERE id = ?2")?
            .execute(params![db::now(), token.id])?;
    }
    Ok(())
}

pub fn touch_key(conn: &Connection, key: &KeyRecord) -> Result<()> {
    if is_stale(key.last_used_at.as_deref()) {
        conn.prepare_cached("UPDATE website_keys SET last_used_at = ?1 WHERE id = ?2")?
            .execute(params![db::now(), key.id])?;
    }
    Ok(())
}

const KEY_COLUMNS: &str = "id, name, display_key, website_id, last_used_at, created_at";

fn key_view(row: &Row<'_>) -> rusqlite::Result<WebsiteKeyView> {
    Ok(WebsiteKeyView {
        id: row.get(0)?,
        name: row.get(1)?,
        display_key: row.get(2)?,
        website_id: row.get(3)?,
        last_used_at: row.get(4)?,
        created_at: row.get(5)?,
        key: None,
    })
}

pub fn create_website_key(
    conn: &mut Connection,
    website: &ObjectId,
    name: Option<&str>,
    actor: &Actor,
) -> Result<WebsiteKeyView> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let count: i64 =
        tx.query_row("SELECT COUNT(*) FROM website_keys WHERE website_id = ?1", [website], |r| r.get(0))?;
    if count >= MAX_KEYS_PER_WEBSITE {
        return Err(Error::BadRequest("Key limit reached".into()));
    }
    let secret = NewSecret::generate(TokenKind::WebsiteKey);
    let id = ObjectId::generate();
    let now = db::now();
    tx.execute(
        "INSERT INTO website_keys (id, website_id, name, key_hash, display_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, website, name, secret.hash(), secret.display_key(), now],
    )?;
    audit::record(&tx, actor, Some(website), "website_key.create", id.as_str())?;
    tx.commit()?;
    Ok(WebsiteKeyView {
        id,
        name: name.map(str::to_owned),
        display_key: secret.display_key(),
        website_id: website.clone(),
        last_used_at: None,
        created_at: now,
        key: Some(secret.into_raw()),
    })
}

pub fn list_website_keys(conn: &Connection, website: &ObjectId) -> Result<Vec<WebsiteKeyView>> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM website_keys WHERE website_id = ?1 ORDER BY created_at, id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([website], key_view)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn key_not_found() -> Error {
    Error::NotFound("API key not found".into())
}

/// Replaces the key's secret in place: the old value stops working at once.
pub fn roll_website_key(
    conn: &mut Connection,
    website: &ObjectId,
    id: &ObjectId,
    actor: &Actor,
) -> Result<WebsiteKeyView> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let secret = NewSecret::generate(TokenKind::WebsiteKey);
    let updated = tx.execute(
        "UPDATE website_keys SET key_hash = ?1, display_key = ?2, last_used_at = NULL WHERE id = ?3 AND website_id = ?4",
        params![secret.hash(), secret.display_key(), id, website],
    )?;
    if updated == 0 {
        return Err(key_not_found());
    }
    let sql = format!("SELECT {KEY_COLUMNS} FROM website_keys WHERE id = ?1");
    let mut view = tx.query_row(&sql, [id], key_view)?;
    audit::record(&tx, actor, Some(website), "website_key.roll", id.as_str())?;
    tx.commit()?;
    view.key = Some(secret.into_raw());
    Ok(view)
}

pub fn delete_website_key(conn: &mut Connection, website: &ObjectId, id: &ObjectId, actor: &Actor) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let removed = tx.execute("DELETE FROM website_keys WHERE id = ?1 AND website_id = ?2", params![id, website])?;
    if removed == 0 {
        return Err(key_not_found());
    }
    audit::record(&tx, actor, Some(website), "website_key.delete", id.as_str())?;
    tx.commit()?;
    Ok(())
}
