//! Stripe connections: the encrypted restricted key and what is shown about it.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::crypto::{Sealed, StripeKeyBox};
use crate::db::{self, audit, optional};
use crate::domain::integrations::{StripeStatus, SyncStatus};
use crate::domain::{Actor, ObjectId};
use crate::error::{Error, Result};

/// What is stored after a successful verification.
pub struct NewConnection {
    pub sealed: Sealed,
    pub livemode: bool,
    pub display_key: String,
    pub currency: String,
}

fn key_version(conn: &Connection) -> Result<i64> {
    let v: String = conn.query_row("SELECT value FROM settings WHERE key = 'master_key_version'", [], |r| r.get(0))?;
    v.parse().map_err(Error::internal)
}

/// Stores the connection (replacing any earlier key) and sets the website's currency, in one transaction.
pub fn connect(conn: &mut Connection, website: &ObjectId, new: &NewConnection, actor: &Actor) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = key_version(&tx)?;
    let replaced = tx.execute("DELETE FROM stripe_connections WHERE website_id = ?1", [website])? > 0;
    tx.execute(
        "INSERT INTO stripe_connections
             (website_id, ciphertext, nonce, key_version, livemode, display_key, currency, connected_by, connected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            website,
            new.sealed.ciphertext,
            new.sealed.nonce,
            version,
            new.livemode,
            new.display_key,
            new.currency,
            actor.user_id,
            db::now()
        ],
    )?;
    tx.execute("UPDATE websites SET currency = ?1 WHERE id = ?2", params![new.currency, website])?;
    db::import::reset(&tx, website)?;
    let action = if replaced { "stripe.reconnect" } else { "stripe.connect" };
    let mode = if new.livemode { "live" } else { "test" };
    audit::record(&tx, actor, Some(website), action, &format!("{mode}, {}", new.currency))?;
    tx.commit()?;
    Ok(())
}

/// Deletes the ciphertext. `Ok(false)` when nothing was connected.
pub fn disconnect(conn: &mut Connection, website: &ObjectId, actor: &Actor) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let removed = tx.execute("DELETE FROM stripe_connections WHERE website_id = ?1", [website])?;
    if removed > 0 {
        tx.execute("UPDATE stripe_sync SET state = 'idle', stage = NULL WHERE website_id = ?1", [website])?;
        audit::record(&tx, actor, Some(website), "stripe.disconnect", "")?;
    }
    tx.commit()?;
    Ok(removed > 0)
}

/// The website's Stripe status and its currency, in one read.
pub fn status(conn: &Connection, website: &ObjectId) -> Result<(StripeStatus, String)> {
    let mut stmt = conn.prepare_cached(
        "SELECT w.currency, s.livemode, s.display_key, s.currency, s.connected_at, u.email
         FROM websites w
         LEFT JOIN stripe_connections s ON s.website_id = w.id
         LEFT JOIN users u ON u.id = s.connected_by
         WHERE w.id = ?1",
    )?;
    let row = optional(stmt.query_row([website], |r| {
        let livemode: Option<bool> = r.get(1)?;
        let status = StripeStatus {
            connected: livemode.is_some(),
            livemode,
            display_key: r.get(2)?,
            currency: r.get(3)?,
            connected_at: r.get(4)?,
            connected_by: r.get(5)?,
            sync: SyncStatus::default(),
            disputes_unavailable: None,
            reconciliation: None,
        };
        Ok((status, r.get(0)?))
    }))?;
    let (mut status, currency) = row.ok_or_else(|| Error::NotFound("Website not found".into()))?;
    status.sync = db::import::status(conn, website)?;
    status.disputes_unavailable = db::disputes::refused(conn, website)?;
    status.reconciliation = db::reconcile::status(conn, website)?;
    Ok((status, currency))
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM stripe_connections", [], |r| r.get(0))?)
}

fn all_sealed(conn: &Connection) -> Result<Vec<(ObjectId, Sealed)>> {
    let mut stmt = conn.prepare("SELECT website_id, nonce, ciphertext FROM stripe_connections ORDER BY website_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, Sealed { nonce: r.get(1)?, ciphertext: r.get(2)? })))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Checks that `key` opens every stored secret; names the first website it cannot open.
pub fn verify_master_key(conn: &Connection, keys: &StripeKeyBox) -> Result<usize> {
    let sealed = all_sealed(conn)?;
    for (website, s) in &sealed {
        keys.open(website, s).map_err(|_| {
            Error::Internal(format!(
                "the configured master key cannot decrypt the Stripe key stored for website {website}; \
                 configure the master key these secrets were written with"
            ))
        })?;
    }
    Ok(sealed.len())
}

/// How many sealed keys are stored, and the websites whose key `keys` cannot open (every one without a key).
pub fn unreadable_secrets(conn: &Connection, keys: Option<&StripeKeyBox>) -> Result<(usize, Vec<ObjectId>)> {
    let sealed = all_sealed(conn)?;
    let unreadable =
        sealed.iter().filter(|(website, s)| keys.is_none_or(|k| k.open(website, s).is_err())).map(|(w, _)| w.clone());
    Ok((sealed.len(), unreadable.collect()))
}

/// Re-encrypts every stored secret under `new`, in one transaction; returns how many and the new version.
pub fn rotate_master_key(conn: &mut Connection, old: &StripeKeyBox, new: &StripeKeyBox) -> Result<(usize, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let sealed = all_sealed(&tx)?;
    let version = key_version(&tx)? + 1;
    for (website, s) in &sealed {
        let resealed = old.reseal(new, website, s).map_err(|_| {
            Error::Internal(format!("the current master key cannot decrypt the Stripe key of website {website}"))
        })?;
        tx.execute(
            "UPDATE stripe_connections SET ciphertext = ?1, nonce = ?2, key_version = ?3 WHERE website_id = ?4",
            params![resealed.ciphertext, resealed.nonce, version, website],
        )?;
    }
    tx.execute("UPDATE settings SET value = ?1 WHERE key = 'master_key_version'", [version.to_string()])?;
    audit::record(&tx, &Actor::cli(), None, "master_key.rotate", &format!("{} secrets", sealed.len()))?;
    tx.commit()?;
    Ok((sealed.len(), version))
}
