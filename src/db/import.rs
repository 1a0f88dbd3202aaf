//! The Stripe import's tables: the sync state of each website, the pass under way on each Stripe list,
//! and what checkout sessions and invoices say about the charges they were paid with. A page of a list
//! and the cursor after it are written in one transaction, so an import stopped at any moment resumes
//! exactly where its last committed page ended.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use utoipa::ToSchema;

use crate::crypto::Sealed;
use crate::db::{self, optional, payments};
use crate::domain::ObjectId;
use crate::error::Result;
use crate::stripe::objects::{Charge, CheckoutIds, CheckoutSession, Invoice, Surroundings, payment_from_charge};

/// The Stripe lists the import reads, in the order a sync reads them: what surrounds a charge first,
/// so that the charge finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    CheckoutSessions,
    Invoices,
    Charges,
    Refunds,
}

impl Stream {
    pub const ALL: [Stream; 4] = [Self::CheckoutSessions, Self::Invoices, Self::Charges, Self::Refunds];

    pub fn name(self) -> &'static str {
        match self {
            Self::CheckoutSessions => "checkout_sessions",
            Self::Invoices => "invoices",
            Self::Charges => "charges",
            Self::Refunds => "refunds",
        }
    }
}

/// A pass over one list: everything created after `low`, page by page from `cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    pub low: i64,
    pub cursor: Option<String>,
    pub started: i64,
}

#[derive(Debug, Default)]
pub struct StreamState {
    /// When the last complete pass began; `None` until one completed.
    pub high_water: Option<i64>,
    pub pass: Option<Pass>,
}

pub fn stream(conn: &Connection, website: &ObjectId, stream: Stream) -> Result<StreamState> {
    let row = optional(conn.prepare_cached(
        "SELECT high_water, pass_low, pass_cursor, pass_started FROM stripe_sync_streams WHERE website_id = ?1 AND stream = ?2",
    )?.query_row(params![website, stream.name()], |r| {
        let low: Option<i64> = r.get(1)?;
        let started: Option<i64> = r.get(3)?;
        let pass = low.zip(started).map(|(low, started)| Ok::<_, rusqlite::Error>(Pass { low, cursor: r.get(2)?, started }));
        Ok(StreamState { high_water: r.get(0)?, pass: pass.transpose()? })
    }))?;
    Ok(row.unwrap_or_default())
}

/// Starts a pass (forgetting the position of any earlier one).
pub fn begin_pass(conn: &Connection, website: &ObjectId, stream: Stream, pass: &Pass) -> Result<()> {
    conn.execute(
        "INSERT INTO stripe_sync_streams (website_id, stream, pass_low, pass_cursor, pass_started)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (website_id, stream) DO UPDATE SET pass_low = excluded.pass_low,
             pass_cursor = excluded.pass_cursor, pass_started = excluded.pass_started, seen_min = NULL",
        params![website, stream.name(), pass.low, pass.cursor, pass.started],
    )?;
    Ok(())
}

/// Marks a pass complete without a page (the list does not exist on this server).
pub fn skip_pass(conn: &mut Connection, website: &ObjectId, stream: Stream, started: i64) -> Result<()> {
    conn.execute(
        "UPDATE stripe_sync_streams SET high_water = ?3, pass_low = NULL, pass_cursor = NULL, pass_started = NULL
         WHERE website_id = ?1 AND stream = ?2",
        params![website, stream.name(), started],
    )?;
    Ok(())
}

/// The rows of one page of a list.
pub enum Rows {
    CheckoutSessions(Vec<CheckoutSession>),
    Invoices(Vec<Invoice>),
    /// Charges read from the charge list, or re-read because of a refund.
    Charges(Vec<Charge>),
}

impl Rows {
    /// The oldest `created` on the page (for the backfill's progress).
    fn oldest(&self) -> Option<i64> {
        match self {
            Self::CheckoutSessions(v) => v.iter().map(|s| s.created).min(),
            Self::Invoices(v) => v.iter().map(|i| i.created).min(),
            Self::Charges(v) => v.iter().map(|c| c.created).min(),
        }
    }
}

/// One page and where the pass stands after it.
pub struct Page {
    pub stream: Stream,
    pub rows: Rows,
    /// The `starting_after` of the next page; `None` when this page ends the pass.
    pub next: Option<String>,
    /// When the pass began (becomes the stream's high-water mark when it ends).
    pub started: i64,
}

/// What committing a page came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Committed {
    Done,
    /// The connection the page was read with is gone or was replaced: nothing was written.
    Disconnected,
}

/// Writes a page's rows and the pass position in one transaction, if the connection the page was
/// read with (its nonce identifies it) is still the website's.
pub fn commit_page(conn: &mut Connection, website: &ObjectId, nonce: &[u8], page: &Page) -> Result<Committed> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: Option<i64> = tx
        .prepare_cached("SELECT 1 FROM stripe_connections WHERE website_id = ?1 AND nonce = ?2")?
        .query_row(params![website, nonce], |r| r.get(0))
        .optional()?;
    if current.is_none() {
        return Ok(Committed::Disconnected);
    }
    match &page.rows {
        Rows::CheckoutSessions(sessions) => {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO stripe_checkout_refs (website_id, ref, visitor_id, session_id) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for session in sessions {
                let Some(ids) = session.ids() else { continue };
                for reference in session.references() {
                    insert.execute(params![website, reference, ids.visitor_id, ids.session_id])?;
                }
            }
        }
        Rows::Invoices(invoices) => {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO stripe_invoice_refs (website_id, payer, invoice_id, billing_reason) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for invoice in invoices {
                let Some(reason) = &invoice.billing_reason else { continue };
                for payer in invoice.payers() {
                    insert.execute(params![website, payer, invoice.id, reason])?;
                }
            }
        }
        Rows::Charges(charges) => {
            let around = StoredSurroundings { conn: &tx, website };
            let mut new = 0;
            for charge in charges {
                if let Some(payment) = payment_from_charge(charge, &around) {
                    new += i64::from(payments::upsert_imported(&tx, website, &payment)?);
                }
            }
            tx.prepare_cached("UPDATE stripe_sync SET imported = imported + ?2 WHERE website_id = ?1")?
                .execute(params![website, new])?;
        }
    }
    match &page.next {
        Some(cursor) => tx.execute(
            "UPDATE stripe_sync_streams SET pass_cursor = ?3, seen_min = MIN(COALESCE(seen_min, ?4), COALESCE(?4, seen_min))
             WHERE website_id = ?1 AND stream = ?2",
            params![website, page.stream.name(), cursor, page.rows.oldest()],
        )?,
        None => {
            if page.stream == Stream::Charges {
                attribute_renewals(&tx, website)?;
                // The first complete charge pass saw every refund so far: refunds are read from here on.
                tx.execute(
                    "INSERT INTO stripe_sync_streams (website_id, stream, high_water) VALUES (?1, ?2, ?3)
                     ON CONFLICT (website_id, stream) DO UPDATE SET high_water = COALESCE(high_water, excluded.high_water)",
                    params![website, Stream::Refunds.name(), page.started],
                )?;
            }
            tx.execute(
                "UPDATE stripe_sync_streams SET high_water = ?3, pass_low = NULL, pass_cursor = NULL,
                     pass_started = NULL, seen_min = NULL
                 WHERE website_id = ?1 AND stream = ?2",
                params![website, page.stream.name(), page.started],
            )?
        }
    };
    tx.commit()?;
    Ok(Committed::Done)
}

/// A subscription's renewals carry no datafast ids of their own: they belong to the visitor who started
/// it, i.e. of the customer's earliest attributed payment. Run when a charge pass ends, so the result does
/// not depend on the order in which the pass read the charges.
fn attribute_renewals(conn: &Connection, website: &ObjectId) -> Result<()> {
    conn.prepare_cached(
        "UPDATE payments SET visitor_id = (
             SELECT first.visitor_id FROM payments first
             WHERE first.website_id = payments.website_id AND first.customer_id = payments.customer_id
               AND first.visitor_id IS NOT NULL
             ORDER BY first.paid_at LIMIT 1)
         WHERE website_id = ?1 AND source = 'stripe' AND renewal = 1 AND visitor_id IS NULL AND customer_id IS NOT NULL",
    )?
    .execute([website])?;
    Ok(())
}

/// Attribution and billing reasons from what earlier pages stored.
struct StoredSurroundings<'a> {
    conn: &'a Connection,
    website: &'a ObjectId,
}

impl StoredSurroundings<'_> {
    fn lookup<T>(
        &self,
        sql: &str,
        key: &str,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<T> {
        let found =
            self.conn.prepare_cached(sql).and_then(|mut s| s.query_row(params![self.website, key], row).optional());
        found.unwrap_or_else(|e| {
            tracing::error!(error = %e, "reading import references failed");
            None
        })
    }
}

impl Surroundings for StoredSurroundings<'_> {
    fn checkout(&self, reference: &str) -> Option<CheckoutIds> {
        self.lookup(
            "SELECT visitor_id, session_id FROM stripe_checkout_refs WHERE website_id = ?1 AND ref = ?2",
            reference,
            |r| Ok(CheckoutIds { visitor_id: r.get(0)?, session_id: r.get(1)? }),
        )
    }

    fn invoice(&self, payer: &str) -> Option<(String, String)> {
        self.lookup(
            "SELECT invoice_id, billing_reason FROM stripe_invoice_refs WHERE website_id = ?1 AND payer = ?2",
            payer,
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }
}

/// Of these charge ids, those whose payment was paid before `before` (unix time): a refund on them
/// is not seen by this sync's charge pass, so the charge is read again.
pub fn charges_paid_before(conn: &Connection, website: &ObjectId, ids: &[String], before: i64) -> Result<Vec<String>> {
    let before = time::OffsetDateTime::from_unix_timestamp(before)
        .map(db::format_time)
        .map_err(crate::error::Error::internal)?;
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM payments WHERE website_id = ?1 AND transaction_id = ?2 AND source = 'stripe' AND paid_at < ?3",
    )?;
    let mut old = Vec::new();
    for id in ids {
        if stmt.exists(params![website, id, before])? {
            old.push(id.clone());
        }
    }
    Ok(old)
}

/// The stored key of a connected website, and whether it is a live key.
pub struct StoredKey {
    pub sealed: Sealed,
    pub livemode: bool,
}

pub fn stored_key(conn: &Connection, website: &ObjectId) -> Result<Option<StoredKey>> {
    optional(conn.query_row(
        "SELECT nonce, ciphertext, livemode FROM stripe_connections WHERE website_id = ?1",
        [website],
        |r| Ok(StoredKey { sealed: Sealed { nonce: r.get(0)?, ciphertext: r.get(1)? }, livemode: r.get(2)? }),
    ))
}

/// Connected websites whose key Stripe has not refused.
pub fn websites_to_sync(conn: &Connection) -> Result<Vec<ObjectId>> {
    let mut stmt = conn.prepare(
        "SELECT c.website_id FROM stripe_connections c
         LEFT JOIN stripe_sync s ON s.website_id = c.website_id
         WHERE COALESCE(s.halted, 0) = 0 ORDER BY c.connected_at",
    )?;
    let ids = stmt.query_map([], |r| r.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

/// A new key: the import starts over (it may be another Stripe account). Imported payments stay.
pub fn reset(conn: &Connection, website: &ObjectId) -> Result<()> {
    conn.execute("DELETE FROM stripe_sync_streams WHERE website_id = ?1", [website])?;
    conn.execute(
        "INSERT INTO stripe_sync (website_id) VALUES (?1)
         ON CONFLICT (website_id) DO UPDATE SET state = 'idle', halted = 0, stage = NULL, started_at = NULL, last_error = NULL",
        [website],
    )?;
    Ok(())
}

/// After a restart nothing is running.
pub fn recover(conn: &Connection) -> Result<()> {
    conn.execute("UPDATE stripe_sync SET state = 'idle', stage = NULL WHERE state = 'running'", [])?;
    Ok(())
}

/// Marks the sync running, if the connection it read (`nonce`) is still the website's.
pub fn mark_running(conn: &Connection, website: &ObjectId, nonce: &[u8]) -> Result<bool> {
    let changed = conn.execute(
        "INSERT INTO stripe_sync (website_id, state, started_at)
         SELECT ?1, 'running', ?2 WHERE EXISTS (SELECT 1 FROM stripe_connections WHERE website_id = ?1 AND nonce = ?3)
         ON CONFLICT (website_id) DO UPDATE SET state = 'running', halted = 0, started_at = excluded.started_at",
        params![website, db::now(), nonce],
    )?;
    Ok(changed > 0)
}

pub fn set_stage(conn: &Connection, website: &ObjectId, stream: Stream) -> Result<()> {
    conn.execute("UPDATE stripe_sync SET stage = ?2 WHERE website_id = ?1", params![website, stream.name()])?;
    Ok(())
}

/// How a sync ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Complete,
    /// Stopped by a disconnect or a new key; not an error.
    Stopped,
    /// Stripe refused the key: nothing is retried until someone acts.
    Refused(String),
    /// Stripe kept failing; the next sync tries again.
    Failed(String),
}

/// Records how a sync ended, if the connection it read (`nonce`) is still the website's.
pub fn finish(conn: &Connection, website: &ObjectId, nonce: &[u8], outcome: &Outcome) -> Result<()> {
    let (state, halted, error) = match outcome {
        Outcome::Complete | Outcome::Stopped => ("idle", false, None),
        Outcome::Refused(m) => ("error", true, Some(m.as_str())),
        Outcome::Failed(m) => ("error", false, Some(m.as_str())),
    };
    let complete = *outcome == Outcome::Complete;
    conn.execute(
        "UPDATE stripe_sync SET state = ?2, halted = ?3, stage = NULL,
             last_error = CASE WHEN ?5 OR ?4 IS NOT NULL THEN ?4 ELSE last_error END,
             last_sync_at = CASE WHEN ?5 THEN ?6 ELSE last_sync_at END
         WHERE website_id = ?1 AND EXISTS (SELECT 1 FROM stripe_connections WHERE website_id = ?1 AND nonce = ?7)",
        params![website, state, halted, error, complete, db::now(), nonce],
    )?;
    Ok(())
}

/// The import as `GET …/integrations/stripe` shows it.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// `idle`, `running` or `error`.
    pub state: String,
    /// `backfill` until the history back to `import_since_days` is read, then `incremental`.
    #[schema(value_type = String)]
    pub phase: &'static str,
    /// Payments imported from Stripe so far.
    pub imported: i64,
    /// Percent of the backfill's time window read (backfill only).
    pub progress: Option<u8>,
    /// The Stripe list being read while running.
    pub stage: Option<String>,
    /// When the current (or last) sync began.
    pub started_at: Option<String>,
    pub last_sync_at: Option<String>,
    pub last_error: Option<String>,
}

pub fn status(conn: &Connection, website: &ObjectId) -> Result<SyncStatus> {
    let (state, stage, started_at, last_sync_at, last_error, imported) = optional(conn.query_row(
        "SELECT state, stage, started_at, last_sync_at, last_error, imported FROM stripe_sync WHERE website_id = ?1",
        [website],
        |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
    ))?
    .unwrap_or_else(|| ("idle".into(), None, None, None, None, 0));
    let charges = optional(
        conn.prepare_cached(
            "SELECT high_water, pass_low, pass_started, seen_min FROM stripe_sync_streams
             WHERE website_id = ?1 AND stream = 'charges'",
        )?
        .query_row([website], |r| {
            Ok((
                r.get::<_, Option<i64>>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        }),
    )?;
    let (phase, progress) = match charges {
        Some((Some(_), ..)) => ("incremental", None),
        // Stripe lists newest first, so the oldest charge read so far tells how far back the pass is.
        // (Only the estimate depends on that order; what is imported does not.)
        Some((None, Some(low), Some(started), Some(oldest))) if started > low => {
            let percent = ((started - oldest.max(low)) * 100 / (started - low)).clamp(0, 99);
            ("backfill", Some(u8::try_from(percent).unwrap_or(99)))
        }
        _ => ("backfill", Some(0)),
    };
    Ok(SyncStatus { state, phase, imported, progress, stage, started_at, last_sync_at, last_error })
}
