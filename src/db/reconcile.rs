//! Reconciliation with Stripe's ledger (migration 0013): which charge each refund refunds, revlink's gross, refunds
//! and fees per UTC day and settlement currency, the payments a check read again, and the result of the last check.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};

use crate::db::{self, import, optional};
use crate::domain::ObjectId;
use crate::domain::payment::NewPayment;
use crate::domain::reconciliation::{Figures, Ledger, Mismatch, Reconciliation};
use crate::error::Result;

/// The UTC date each of these imported charges was paid on (those revlink has).
pub fn paid_dates(conn: &Connection, website: &ObjectId, charges: &[String]) -> Result<HashMap<String, NaiveDate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT substr(paid_at, 1, 10) FROM payments WHERE website_id = ?1 AND transaction_id = ?2 AND source = 'stripe'",
    )?;
    let mut found = HashMap::with_capacity(charges.len());
    for charge in charges {
        let day: Option<String> = stmt.query_row(params![website, charge], |r| r.get(0)).optional()?;
        if let Some(date) = day.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()) {
            found.insert(charge.clone(), date);
        }
    }
    Ok(found)
}

/// The charges of these refunds, for those revlink knows.
pub fn refunded_charges(conn: &Connection, website: &ObjectId, refunds: &[String]) -> Result<HashMap<String, String>> {
    let mut stmt =
        conn.prepare_cached("SELECT charge_id FROM stripe_refund_refs WHERE website_id = ?1 AND refund_id = ?2")?;
    let mut found = HashMap::with_capacity(refunds.len());
    for refund in refunds {
        if let Some(charge) = stmt.query_row(params![website, refund], |r| r.get::<_, String>(0)).optional()? {
            found.insert(refund.clone(), charge);
        }
    }
    Ok(found)
}

/// revlink's figures of `[from, to)` (UTC dates) per paid date and settlement currency, as the revenue summary
/// counts its Stripe payments there: the settled amount, the refunded part of it, and the fee. A payment without
/// a settlement is in none of them.
pub fn figures(conn: &Connection, website: &ObjectId, from: NaiveDate, to: NaiveDate) -> Result<Ledger> {
    let mut stmt = conn.prepare_cached(
        "SELECT substr(paid_at, 1, 10) AS day, settled_currency, SUM(settled_amount),
                SUM(CASE WHEN amount > 0 THEN refunded_amount * settled_amount / amount ELSE 0 END), SUM(COALESCE(fee, 0))
         FROM payments
         WHERE website_id = ?1 AND paid_at >= ?2 AND paid_at < ?3 AND source = 'stripe' AND settled_currency IS NOT NULL
         GROUP BY day, settled_currency",
    )?;
    let mut rows = stmt.query(params![website, from.to_string(), to.to_string()])?;
    let mut ledger = Ledger::new();
    while let Some(r) = rows.next()? {
        let Ok(date) = NaiveDate::parse_from_str(&r.get::<_, String>(0)?, "%Y-%m-%d") else { continue };
        let figures = Figures { gross: r.get(2)?, refunds: r.get(3)?, fees: r.get(4)? };
        ledger.insert((date, r.get(1)?), figures);
    }
    Ok(ledger)
}

/// Writes the payments a check read again, if the connection they were read with is still the website's; answers
/// whether it was. Run it in the writer's transaction.
pub fn commit_reread(tx: &Connection, website: &ObjectId, nonce: &[u8], list: &[NewPayment]) -> Result<bool> {
    if !import::is_current(tx, website, nonce)? {
        return Ok(false);
    }
    import::upsert_payments(tx, website, list)?;
    Ok(true)
}

/// Marks a check running (if the connection is still the website's).
pub fn begin(conn: &Connection, website: &ObjectId, nonce: &[u8]) -> Result<bool> {
    if !import::is_current(conn, website, nonce)? {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO stripe_reconciliations (website_id, state, started_at) VALUES (?1, 'running', ?2)
         ON CONFLICT (website_id) DO UPDATE SET state = 'running', started_at = excluded.started_at",
        params![website, db::now()],
    )?;
    Ok(true)
}

/// What a complete check found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub days: u32,
    pub matched_days: u32,
    pub repaired_days: u32,
    pub balance_transactions: u64,
    pub requests: u64,
    pub mismatches: Vec<Mismatch>,
}

/// Records a complete check (replacing the last one's mismatches), if the connection is still the website's.
pub fn finish(tx: &Connection, website: &ObjectId, nonce: &[u8], o: &Outcome) -> Result<()> {
    if !import::is_current(tx, website, nonce)? {
        return Ok(());
    }
    let now = db::now();
    tx.execute(
        "UPDATE stripe_reconciliations SET state = 'idle', checked_at = ?2, attempted_at = ?2, days = ?3,
             matched_days = ?4, repaired_days = ?5, balance_transactions = ?6, requests = ?7, last_error = NULL
         WHERE website_id = ?1",
        params![
            website,
            now,
            o.days,
            o.matched_days,
            o.repaired_days,
            i64::try_from(o.balance_transactions).unwrap_or(i64::MAX),
            i64::try_from(o.requests).unwrap_or(i64::MAX)
        ],
    )?;
    tx.execute("DELETE FROM stripe_reconciliation_mismatches WHERE website_id = ?1", [website])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO stripe_reconciliation_mismatches (website_id, date, currency, field, revlink, stripe)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for m in &o.mismatches {
        insert.execute(params![website, m.date, m.currency, m.field, m.revlink, m.stripe])?;
    }
    Ok(())
}

/// Records a check that could not finish; the last complete one's figures stay.
pub fn fail(conn: &Connection, website: &ObjectId, error: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO stripe_reconciliations (website_id, state, attempted_at, last_error) VALUES (?1, 'error', ?2, ?3)
         ON CONFLICT (website_id) DO UPDATE SET state = 'error', attempted_at = ?2, last_error = ?3",
        params![website, db::now(), error],
    )?;
    Ok(())
}

/// After a restart nothing is running.
pub fn recover(conn: &Connection) -> Result<()> {
    conn.execute("UPDATE stripe_reconciliations SET state = 'idle' WHERE state = 'running'", [])?;
    Ok(())
}

/// Connected websites whose key Stripe has not refused and whose last check (complete or not) ended before
/// `before` (a stored-time string), or that were never checked.
pub fn due(conn: &Connection, before: &str) -> Result<Vec<ObjectId>> {
    let mut stmt = conn.prepare(
        "SELECT c.website_id FROM stripe_connections c
         LEFT JOIN stripe_sync s ON s.website_id = c.website_id
         LEFT JOIN stripe_reconciliations r ON r.website_id = c.website_id
         WHERE COALESCE(s.halted, 0) = 0 AND (r.attempted_at IS NULL OR r.attempted_at < ?1)
           AND COALESCE(r.state, 'idle') <> 'running'
         ORDER BY c.connected_at",
    )?;
    let ids = stmt.query_map([before], |r| r.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

/// The last check, as the API shows it; `None` until one was asked for.
pub fn status(conn: &Connection, website: &ObjectId) -> Result<Option<Reconciliation>> {
    let found = optional(
        conn.prepare_cached(
            "SELECT state, checked_at, days, matched_days, repaired_days, balance_transactions, requests, last_error
         FROM stripe_reconciliations WHERE website_id = ?1",
        )?
        .query_row([website], |r| {
            Ok(Reconciliation {
                state: r.get(0)?,
                checked_at: r.get(1)?,
                days: r.get(2)?,
                matched_days: r.get(3)?,
                mismatches: Vec::new(),
                repaired_days: r.get(4)?,
                balance_transactions: r.get::<_, i64>(5)?.try_into().unwrap_or(0),
                requests: r.get::<_, i64>(6)?.try_into().unwrap_or(0),
                last_error: r.get(7)?,
            })
        }),
    )?;
    let Some(mut found) = found else { return Ok(None) };
    let mut stmt = conn.prepare_cached(
        "SELECT date, field, revlink, stripe, currency FROM stripe_reconciliation_mismatches WHERE website_id = ?1
         ORDER BY date DESC, currency, CASE field WHEN 'gross' THEN 0 WHEN 'refunds' THEN 1 ELSE 2 END",
    )?;
    let rows = stmt.query_map([website], |r| {
        Ok(Mismatch { date: r.get(0)?, field: r.get(1)?, revlink: r.get(2)?, stripe: r.get(3)?, currency: r.get(4)? })
    })?;
    found.mismatches = rows.collect::<rusqlite::Result<_>>()?;
    Ok(Some(found))
}
