//! A website's tracking settings (migration 0009, and `allowed_hostnames` of 0007), and the retention of raw
//! events: deleting, a batch at a time, the `events` rows older than a cut-off.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::db::{audit, optional};
use crate::domain::tracking::{TrackingMode, TrackingSettings};
use crate::domain::{Actor, ObjectId};
use crate::error::{Error, Result};

/// The settings as stored: the lists as text (see `TrackingSettings::stored_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredTracking {
    pub mode: TrackingMode,
    /// Comma-separated.
    pub allowed_hostnames: String,
    /// One network per line.
    pub excluded_ips: String,
    /// One pattern per line.
    pub excluded_paths: String,
}

/// The website's tracking settings.
pub fn get(conn: &Connection, website: &ObjectId) -> Result<StoredTracking> {
    let mut stmt = conn.prepare_cached(
        "SELECT tracking_mode, allowed_hostnames, excluded_ips, excluded_paths FROM websites WHERE id = ?1",
    )?;
    let row = optional(stmt.query_row([website], |r| {
        let mode: String = r.get(0)?;
        Ok(StoredTracking {
            // The column's CHECK allows only the two.
            mode: TrackingMode::parse(&mode).unwrap_or_default(),
            allowed_hostnames: r.get(1)?,
            excluded_ips: r.get(2)?,
            excluded_paths: r.get(3)?,
        })
    }))?;
    row.ok_or_else(|| Error::NotFound("Website not found".into()))
}

/// Replaces the website's tracking settings, recorded in the audit log (the lists' sizes, not the lists).
pub fn update(conn: &mut Connection, website: &ObjectId, settings: &TrackingSettings, actor: &Actor) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = tx.execute(
        "UPDATE websites SET tracking_mode = ?1, allowed_hostnames = ?2, excluded_ips = ?3, excluded_paths = ?4
         WHERE id = ?5",
        params![
            settings.mode.as_str(),
            settings.stored_hostnames(),
            settings.stored_ips(),
            settings.stored_paths(),
            website
        ],
    )?;
    if changed == 0 {
        return Err(Error::NotFound("Website not found".into()));
    }
    let detail = format!(
        "mode={} hostnames={} ip_ranges={} paths={}",
        settings.mode.as_str(),
        settings.allowed_hostnames.len(),
        settings.excluded_ips.len(),
        settings.excluded_paths.len()
    );
    audit::record(&tx, actor, Some(website), "website.tracking", &detail)?;
    tx.commit()?;
    Ok(())
}

/// Every website's id (the retention pass goes website by website, along `events_by_time`).
pub fn website_ids(conn: &Connection) -> Result<Vec<ObjectId>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM websites ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Deletes at most `limit` of the website's events older than `before` (Unix milliseconds); answers how many.
/// Runs inside the writer's transaction (`Db::write`): running it twice deletes the next batch, never more.
pub fn delete_events_before(conn: &Connection, website: &ObjectId, before: i64, limit: u32) -> Result<usize> {
    let mut stmt = conn.prepare_cached(
        "DELETE FROM events WHERE id IN
           (SELECT id FROM events WHERE website_id = ?1 AND at < ?2 ORDER BY at LIMIT ?3)",
    )?;
    Ok(stmt.execute(params![website, before, limit])?)
}
