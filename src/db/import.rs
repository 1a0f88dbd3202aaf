//! The revenue import's tables: the sync state of each website, the pass under way on each provider list
//! (named by the import), and what the objects around a payment (a checkout session, an invoice) say
//! about it. A page of a list and the cursor after it are written in one transaction (the writer's), so
//! an import stopped at any moment resumes exactly where its last committed page ended. Plain rows in and out:
//! how a provider's objects become these rows is the import's business.

use rusqlite::{Connection, OptionalExtension, params};

use crate::crypto::Sealed;
use crate::db::{self, disputes, optional, payments};
use crate::domain::ObjectId;
use crate::domain::dispute::NewDispute;
use crate::domain::integrations::SyncStatus;
use crate::domain::payment::NewPayment;
use crate::error::Result;

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

pub fn stream(conn: &Connection, website: &ObjectId, stream: &str) -> Result<StreamState> {
    let row = optional(conn.prepare_cached(
        "SELECT high_water, pass_low, pass_cursor, pass_started FROM stripe_sync_streams WHERE website_id = ?1 AND stream = ?2",
    )?.query_row(params![website, stream], |r| {
        let low: Option<i64> = r.get(1)?;
        let started: Option<i64> = r.get(3)?;
        let pass = low.zip(started).map(|(low, started)| Ok::<_, rusqlite::Error>(Pass { low, cursor: r.get(2)?, started }));
        Ok(StreamState { high_water: r.get(0)?, pass: pass.transpose()? })
    }))?;
    Ok(row.unwrap_or_default())
}

/// Starts a pass (forgetting the position of any earlier one).
pub fn begin_pass(conn: &Connection, website: &ObjectId, stream: &str, pass: &Pass) -> Result<()> {
    conn.execute(
        "INSERT INTO stripe_sync_streams (website_id, stream, pass_low, pass_cursor, pass_started)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (website_id, stream) DO UPDATE SET pass_low = excluded.pass_low,
             pass_cursor = excluded.pass_cursor, pass_started = excluded.pass_started, seen_min = NULL",
        params![website, stream, pass.low, pass.cursor, pass.started],
    )?;
    Ok(())
}

/// Marks a pass complete without a page (the list does not exist on this server).
pub fn skip_pass(conn: &Connection, website: &ObjectId, stream: &str, started: i64) -> Result<()> {
    conn.execute(
        "UPDATE stripe_sync_streams SET high_water = ?3, pass_low = NULL, pass_cursor = NULL, pass_started = NULL
         WHERE website_id = ?1 AND stream = ?2",
        params![website, stream, started],
    )?;
    Ok(())
}

/// What a checkout session says about the payments it was paid with: the datafast ids, found by
/// `reference` (the payment intent or, for subscriptions, the invoice).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckoutRef {
    pub reference: String,
    pub visitor_id: Option<String>,
    pub session_id: Option<String>,
}

/// What an invoice says about the payment that paid it (`payer`: a charge or payment intent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRef {
    pub payer: String,
    pub invoice_id: String,
    pub billing_reason: String,
}

/// The rows of one page of a list.
pub enum Rows {
    CheckoutRefs(Vec<CheckoutRef>),
    InvoiceRefs(Vec<InvoiceRef>),
    Payments(Vec<NewPayment>),
    /// A page of refunds: which charge each refunds, and those charges read again.
    Refunds(Vec<(String, String)>, Vec<NewPayment>),
    Disputes(Vec<NewDispute>),
    /// Subscriptions as read at `observed_at` (`db::subscriptions`).
    Subscriptions {
        list: Vec<crate::domain::mrr::NewSubscription>,
        observed_at: i64,
    },
}

/// One page and where the pass stands after it.
pub struct Page<'a> {
    pub stream: &'a str,
    pub rows: Rows,
    /// The oldest `created` on the page (for the backfill's progress).
    pub oldest: Option<i64>,
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

/// Writes a page's rows and the pass position, if the connection the page was read with (its nonce
/// identifies it) is still the website's. When the page ends its pass, `at_pass_end` runs too. Run it
/// inside one transaction that has taken the write lock before this reads the nonce (the writer's,
/// `Db::write`): the page and its cursor are written together, and a disconnect cannot slip in between
/// the check and the writes.
pub fn commit_page(
    tx: &Connection,
    website: &ObjectId,
    nonce: &[u8],
    page: &Page<'_>,
    at_pass_end: impl FnOnce(&Connection) -> Result<()>,
) -> Result<Committed> {
    if !is_current(tx, website, nonce)? {
        return Ok(Committed::Disconnected);
    }
    match &page.rows {
        Rows::CheckoutRefs(refs) => save_checkout_refs(tx, website, refs)?,
        Rows::InvoiceRefs(refs) => save_invoice_refs(tx, website, refs)?,
        Rows::Payments(list) => upsert_page_payments(tx, website, list)?,
        Rows::Refunds(refs, list) => {
            save_refund_refs(tx, website, refs)?;
            upsert_page_payments(tx, website, list)?;
        }
        Rows::Disputes(list) => {
            for dispute in list {
                disputes::upsert(tx, website, dispute)?;
            }
            disputes::set_refused(tx, website, None)?;
        }
        Rows::Subscriptions { list, observed_at } => {
            db::subscriptions::upsert_page(tx, website, list, *observed_at)?;
        }
    }
    match &page.next {
        Some(cursor) => tx.execute(
            "UPDATE stripe_sync_streams SET pass_cursor = ?3, seen_min = MIN(COALESCE(seen_min, ?4), COALESCE(?4, seen_min))
             WHERE website_id = ?1 AND stream = ?2",
            params![website, page.stream, cursor, page.oldest],
        )?,
        None => {
            at_pass_end(tx)?;
            tx.execute(
                "UPDATE stripe_sync_streams SET high_water = ?3, pass_low = NULL, pass_cursor = NULL,
                     pass_started = NULL, seen_min = NULL
                 WHERE website_id = ?1 AND stream = ?2",
                params![website, page.stream, page.started],
            )?
        }
    };
    Ok(Committed::Done)
}

/// Records imported payments (new ones counted as imported).
fn upsert_page_payments(tx: &Connection, website: &ObjectId, list: &[NewPayment]) -> Result<()> {
    upsert_payments(tx, website, list)?;
    // The first payment stored identifies the account, when its key listed no charge at connect.
    if let Some(first) = list.first() {
        tx.prepare_cached(
            "UPDATE stripe_sync SET account_charge = COALESCE(account_charge, ?2) WHERE website_id = ?1",
        )?
        .execute(params![website, first.transaction_id])?;
    }
    Ok(())
}

/// Stores payments the import read (a page, a webhook's re-read, a reconciled day read again), counting the new
/// ones in the sync's `imported`. Runs in the writer's transaction.
pub fn upsert_payments(tx: &Connection, website: &ObjectId, list: &[NewPayment]) -> Result<()> {
    let mut new = 0;
    for payment in list {
        new += i64::from(payments::upsert_imported(tx, website, payment)?);
    }
    tx.prepare_cached("UPDATE stripe_sync SET imported = imported + ?2 WHERE website_id = ?1")?
        .execute(params![website, new])?;
    Ok(())
}

/// Whether the connection read with `nonce` is still the website's (a write of what it read is then still wanted).
pub fn is_current(conn: &Connection, website: &ObjectId, nonce: &[u8]) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM stripe_connections WHERE website_id = ?1 AND nonce = ?2")?
        .exists(params![website, nonce])?)
}

/// Checkout sessions' references: the datafast ids of the payment each was paid with.
pub fn save_checkout_refs(tx: &Connection, website: &ObjectId, refs: &[CheckoutRef]) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO stripe_checkout_refs (website_id, ref, visitor_id, session_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for r in refs {
        insert.execute(params![website, r.reference, r.visitor_id, r.session_id])?;
    }
    Ok(())
}

/// Records which charge each refund refunds, `(refund, charge)`: from the import's refund list, or refunds the
/// reconciliation looked up (`db::reconcile` reads them).
pub fn save_refund_refs(tx: &Connection, website: &ObjectId, refs: &[(String, String)]) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO stripe_refund_refs (website_id, refund_id, charge_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (website_id, refund_id) DO UPDATE SET charge_id = excluded.charge_id",
    )?;
    for (refund, charge) in refs {
        insert.execute(params![website, refund, charge])?;
    }
    Ok(())
}

/// Invoices' references: the payment each was paid with, and its billing reason.
pub fn save_invoice_refs(tx: &Connection, website: &ObjectId, refs: &[InvoiceRef]) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO stripe_invoice_refs (website_id, payer, invoice_id, billing_reason) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for r in refs {
        insert.execute(params![website, r.payer, r.invoice_id, r.billing_reason])?;
    }
    Ok(())
}

/// Sets the stream's high-water mark if it has none: the stream is read from `at` on.
pub fn start_stream_at(conn: &Connection, website: &ObjectId, stream: &str, at: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO stripe_sync_streams (website_id, stream, high_water) VALUES (?1, ?2, ?3)
         ON CONFLICT (website_id, stream) DO UPDATE SET high_water = COALESCE(high_water, excluded.high_water)",
        params![website, stream, at],
    )?;
    Ok(())
}

fn lookup<T>(
    conn: &Connection,
    sql: &str,
    website: &ObjectId,
    key: &str,
    row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>> {
    Ok(conn.prepare_cached(sql)?.query_row(params![website, key], row).optional()?)
}

/// The checkout session stored under `reference`.
pub fn checkout_ref(conn: &Connection, website: &ObjectId, reference: &str) -> Result<Option<CheckoutRef>> {
    lookup(
        conn,
        "SELECT visitor_id, session_id FROM stripe_checkout_refs WHERE website_id = ?1 AND ref = ?2",
        website,
        reference,
        |r| Ok(CheckoutRef { reference: reference.to_owned(), visitor_id: r.get(0)?, session_id: r.get(1)? }),
    )
}

/// The invoice paid by `payer`.
pub fn invoice_ref(conn: &Connection, website: &ObjectId, payer: &str) -> Result<Option<InvoiceRef>> {
    lookup(
        conn,
        "SELECT invoice_id, billing_reason FROM stripe_invoice_refs WHERE website_id = ?1 AND payer = ?2",
        website,
        payer,
        |r| Ok(InvoiceRef { payer: payer.to_owned(), invoice_id: r.get(0)?, billing_reason: r.get(1)? }),
    )
}

/// Of these transaction ids of imported payments, those paid before `before` (unix time).
pub fn imported_paid_before(conn: &Connection, website: &ObjectId, ids: &[String], before: i64) -> Result<Vec<String>> {
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

/// Per connected website: when its last complete sync ended, or when it was connected while none has.
pub fn last_successes(conn: &Connection) -> Result<Vec<(ObjectId, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.website_id, COALESCE(s.last_sync_at, c.connected_at) FROM stripe_connections c
         LEFT JOIN stripe_sync s ON s.website_id = c.website_id ORDER BY c.website_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A key of another account (or one not recognised): the import starts over, remembering `account_charge` as the
/// charge that identifies the account it now reads. Imported payments stay; the previous account's subscriptions go.
pub fn reset(conn: &Connection, website: &ObjectId, account_charge: Option<&str>) -> Result<()> {
    conn.execute("DELETE FROM stripe_sync_streams WHERE website_id = ?1", [website])?;
    db::subscriptions::forget(conn, website)?;
    conn.execute(
        "INSERT INTO stripe_sync (website_id, account_charge) VALUES (?1, ?2)
         ON CONFLICT (website_id) DO UPDATE SET state = 'idle', halted = 0, stage = NULL, started_at = NULL,
             last_error = NULL, disputes_refused = NULL, account_charge = excluded.account_charge",
        params![website, account_charge],
    )?;
    Ok(())
}

/// A new key of the same account: the import keeps its position (each list's high-water mark, a pass under way
/// and its cursor) and continues with what is new; only a refusal of the old key is forgotten.
pub fn resume(conn: &Connection, website: &ObjectId, account_charge: Option<&str>) -> Result<()> {
    conn.execute(
        "INSERT INTO stripe_sync (website_id, account_charge) VALUES (?1, ?2)
         ON CONFLICT (website_id) DO UPDATE SET state = 'idle', halted = 0, stage = NULL, started_at = NULL,
             last_error = NULL, disputes_refused = NULL,
             account_charge = COALESCE(excluded.account_charge, account_charge)",
        params![website, account_charge],
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

pub fn set_stage(conn: &Connection, website: &ObjectId, stream: &str) -> Result<()> {
    conn.execute("UPDATE stripe_sync SET stage = ?2 WHERE website_id = ?1", params![website, stream])?;
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

pub fn status(conn: &Connection, website: &ObjectId) -> Result<SyncStatus> {
    let (sync_state, stage, started_at, last_sync_at, last_error, imported) = optional(conn.query_row(
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
    Ok(SyncStatus { state: sync_state, phase, imported, progress, stage, started_at, last_sync_at, last_error })
}
