//! Payments: one row per money movement, idempotent on the website's transaction id.

use rusqlite::{Connection, params};

use crate::db::{self, audit};
use crate::domain::ObjectId;
use crate::error::Result;

/// A payment as the Payments API (or, later, the Stripe import) reports it.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub transaction_id: String,
    pub amount: i64,
    pub currency: String,
    pub refunded_amount: i64,
    pub renewal: bool,
    pub free_trial: bool,
    pub visitor_id: Option<String>,
    pub customer_id: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub paid_at: String,
}

/// Whether a payment was new or its transaction id was already recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

pub fn record(conn: &Connection, website: &ObjectId, source: &str, p: &NewPayment) -> Result<Recorded> {
    let inserted = conn.execute(
        "INSERT INTO payments (id, website_id, source, transaction_id, amount, currency, refunded_amount, renewal,
                               free_trial, visitor_id, customer_id, customer_email, customer_name, paid_at, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (website_id, transaction_id) DO NOTHING",
        params![
            ObjectId::generate(),
            website,
            source,
            p.transaction_id,
            p.amount,
            p.currency,
            p.refunded_amount,
            p.renewal,
            p.free_trial,
            p.visitor_id,
            p.customer_id,
            p.customer_email,
            p.customer_name,
            p.paid_at,
            db::now()
        ],
    )?;
    Ok(if inserted == 1 { Recorded::New } else { Recorded::Duplicate })
}

/// What a delete request names.
pub enum Selection {
    Transaction(String),
    /// A visitor's payments, optionally only those paid in `[start, end]`.
    Visitor(String, Option<(String, String)>),
    Range(String, String),
}

/// Deletes the selected payments in one transaction; answers how many.
pub fn delete(conn: &mut Connection, website: &ObjectId, selection: &Selection, actor: &audit::Actor) -> Result<usize> {
    let tx = conn.transaction()?;
    let (removed, what) = match selection {
        Selection::Transaction(id) => (
            tx.execute("DELETE FROM payments WHERE website_id = ?1 AND transaction_id = ?2", params![website, id])?,
            format!("transaction {id}"),
        ),
        Selection::Visitor(visitor, None) => (
            tx.execute("DELETE FROM payments WHERE website_id = ?1 AND visitor_id = ?2", params![website, visitor])?,
            format!("visitor {visitor}"),
        ),
        Selection::Visitor(visitor, Some((start, end))) => (
            tx.execute(
                "DELETE FROM payments WHERE website_id = ?1 AND visitor_id = ?2 AND paid_at >= ?3 AND paid_at <= ?4",
                params![website, visitor, start, end],
            )?,
            format!("visitor {visitor} from {start} to {end}"),
        ),
        Selection::Range(start, end) => (
            tx.execute(
                "DELETE FROM payments WHERE website_id = ?1 AND paid_at >= ?2 AND paid_at <= ?3",
                params![website, start, end],
            )?,
            format!("from {start} to {end}"),
        ),
    };
    if removed > 0 {
        audit::record(&tx, actor, Some(website), "payments.delete", &format!("{removed} ({what})"))?;
    }
    tx.commit()?;
    Ok(removed)
}
