//! Websites and the caller's role on each.

use rand::RngExt;
use rand::distr::Alphanumeric;
use rusqlite::{Connection, Row, TransactionBehavior, params};

use crate::db::{self, audit, is_unique_violation, optional};
use crate::domain::website::{CreatedWebsite, NewWebsite, RevenueMetric, WebsiteChanges, WebsiteView};
use crate::domain::{Actor, ObjectId, Role};
use crate::error::{Error, Result};

const COLUMNS: &str = "w.id, w.domain, w.name, w.tracking_id, w.timezone, w.currency";

fn view(row: &Row<'_>, role: Role) -> rusqlite::Result<WebsiteView> {
    Ok(WebsiteView {
        id: row.get(0)?,
        domain: row.get(1)?,
        name: row.get(2)?,
        tracking_id: row.get(3)?,
        timezone: row.get(4)?,
        currency: row.get(5)?,
        role,
        revenue_metric: None,
    })
}

fn duplicate_domain(domain: &str) -> Error {
    Error::Conflict(format!("A website with domain {domain} already exists on your account"))
}

fn new_tracking_id() -> String {
    let body: String = rand::rng().sample_iter(Alphanumeric).take(16).map(char::from).collect();
    format!("dfid_{body}")
}

/// Creates the website and makes `owner` its owner, in one transaction.
pub fn create(conn: &mut Connection, owner: &ObjectId, new: &NewWebsite, actor: &Actor) -> Result<CreatedWebsite> {
    db::in_transaction(conn, |tx| insert(tx, owner, new, actor))
}

/// `create` inside a transaction the caller holds (first-run setup creates the owner in the same one).
pub fn insert(tx: &Connection, owner: &ObjectId, new: &NewWebsite, actor: &Actor) -> Result<CreatedWebsite> {
    let id = ObjectId::generate();
    let tracking_id = new_tracking_id();
    let now = db::now();
    tx.execute(
        "INSERT INTO websites (id, owner_id, domain, name, tracking_id, timezone, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, owner, new.domain, new.name, tracking_id, new.timezone, now],
    )
    .map_err(|e| if is_unique_violation(&e) { duplicate_domain(&new.domain) } else { e.into() })?;
    tx.execute(
        "INSERT INTO memberships (website_id, user_id, role, joined_at) VALUES (?1, ?2, 'owner', ?3)",
        params![id, owner, now],
    )?;
    audit::record(tx, actor, Some(&id), "website.create", &new.domain)?;
    Ok(CreatedWebsite { website_id: id, domain: new.domain.clone(), tracking_id })
}

/// The user's websites with their role, optionally limited to an allowlist (empty = all).
pub fn list_for_user(conn: &Connection, user: &ObjectId, allowlist: &[ObjectId]) -> Result<Vec<WebsiteView>> {
    let sql = format!(
        "SELECT {COLUMNS}, m.role FROM websites w JOIN memberships m ON m.website_id = w.id
         WHERE m.user_id = ?1 ORDER BY w.created_at, w.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([user], |r| view(r, r.get(6)?))?;
    let mut out = Vec::new();
    for row in rows {
        let site = row?;
        if allowlist.is_empty() || allowlist.contains(&site.id) {
            out.push(site);
        }
    }
    Ok(out)
}

/// One website, shown with the given role (and, unlike in a list, its revenue metric).
pub fn get(conn: &Connection, id: &ObjectId, role: Role) -> Result<WebsiteView> {
    let sql = format!("SELECT {COLUMNS}, w.revenue_metric FROM websites w WHERE w.id = ?1");
    optional(conn.prepare_cached(&sql)?.query_row([id], |r| {
        let metric: String = r.get(6)?;
        let metric = if metric == RevenueMetric::Mrr.name() { RevenueMetric::Mrr } else { RevenueMetric::Revenue };
        Ok(WebsiteView { revenue_metric: Some(metric), ..view(r, role)? })
    }))?
    .ok_or_else(|| Error::NotFound("Website not found".into()))
}

/// The user's role on the website, or `None` when the website is missing or they are not a member.
pub fn role_of(conn: &Connection, website: &ObjectId, user: &ObjectId) -> Result<Option<Role>> {
    optional(
        conn.prepare_cached("SELECT role FROM memberships WHERE website_id = ?1 AND user_id = ?2")?
            .query_row([website, user], |r| r.get(0)),
    )
}

pub fn exists(conn: &Connection, website: &ObjectId) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM websites WHERE id = ?1")?.exists([website])?)
}

pub fn update(conn: &mut Connection, id: &ObjectId, changes: &WebsiteChanges, actor: &Actor) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(domain) = &changes.domain {
        tx.execute("UPDATE websites SET domain = ?1 WHERE id = ?2", params![domain, id])
            .map_err(|e| if is_unique_violation(&e) { duplicate_domain(domain) } else { e.into() })?;
    }
    if let Some(name) = &changes.name {
        tx.execute("UPDATE websites SET name = ?1 WHERE id = ?2", params![name, id])?;
    }
    if let Some(tz) = &changes.timezone {
        tx.execute("UPDATE websites SET timezone = ?1 WHERE id = ?2", params![tz, id])?;
    }
    if let Some(currency) = &changes.currency {
        tx.execute("UPDATE websites SET currency = ?1 WHERE id = ?2", params![currency, id])?;
    }
    if let Some(metric) = changes.revenue_metric {
        tx.execute("UPDATE websites SET revenue_metric = ?1 WHERE id = ?2", params![metric.name(), id])?;
    }
    audit::record(&tx, actor, Some(id), "website.update", "")?;
    tx.commit()?;
    Ok(())
}

pub fn currency(conn: &Connection, id: &ObjectId) -> Result<String> {
    Ok(conn.prepare_cached("SELECT currency FROM websites WHERE id = ?1")?.query_row([id], |r| r.get(0))?)
}

/// Deletes the website with everything that belongs to it (keys, members, Stripe connection,
/// payments: the foreign keys cascade); the audit log keeps the record of it.
pub fn delete(conn: &mut Connection, id: &ObjectId, actor: &Actor) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let domain: String = tx.query_row("SELECT domain FROM websites WHERE id = ?1", [id], |r| r.get(0))?;
    tx.execute("DELETE FROM websites WHERE id = ?1", [id])?;
    audit::record(&tx, actor, Some(id), "website.delete", &domain)?;
    tx.commit()?;
    Ok(())
}
