//! What Stripe's webhook deliveries leave in the database: the ids of the events received (so that a delivery
//! Stripe retries is processed once; kept a week, longer than Stripe retries), when the website's last event came,
//! and the charges a webhook had read again, committed like a page of the import. Plain rows in and out.

use rusqlite::{Connection, params};

use crate::db;
use crate::db::import::{self, CheckoutRef, Committed, InvoiceRef};
use crate::domain::ObjectId;
use crate::domain::payment::NewPayment;
use crate::error::Result;

/// How long an event id is remembered, in seconds: Stripe retries a delivery for up to three days.
pub const EVENT_MEMORY_SECS: i64 = 7 * 86_400;

/// Records a verified event received at unix time `now`, and when the website's last event came. `Ok(false)` when
/// this id was received before: nothing is to be done again. Ids older than `EVENT_MEMORY_SECS` are forgotten here
/// (through the index on their age), so the table stays as small as a week of events. Run it on the writer.
pub fn record_event(tx: &Connection, website: &ObjectId, event_id: &str, now: i64) -> Result<bool> {
    tx.prepare_cached("DELETE FROM stripe_webhook_events WHERE received_at < ?1")?
        .execute([now - EVENT_MEMORY_SECS])?;
    let new = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO stripe_webhook_events (website_id, event_id, received_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![website, event_id, now])?
        > 0;
    tx.prepare_cached("UPDATE stripe_webhook_secrets SET last_event_at = ?2 WHERE website_id = ?1")?
        .execute(params![website, db::now()])?;
    Ok(new)
}

/// Writes what a webhook's re-read found, if the connection it read with (`nonce`) is still the website's: the
/// checkout sessions' and invoices' references first, then the payments `payments` makes of the charges (reading
/// those references), then `after` (the renewal attribution). Run it inside the writer's transaction, which has
/// taken the write lock before the nonce is read, so a disconnect cannot slip in between.
pub fn commit_charges(
    tx: &Connection,
    website: &ObjectId,
    nonce: &[u8],
    checkout: &[CheckoutRef],
    invoices: &[InvoiceRef],
    payments: impl FnOnce(&Connection) -> Vec<NewPayment>,
    after: impl FnOnce(&Connection) -> Result<()>,
) -> Result<Committed> {
    if !import::is_current(tx, website, nonce)? {
        return Ok(Committed::Disconnected);
    }
    import::save_checkout_refs(tx, website, checkout)?;
    import::save_invoice_refs(tx, website, invoices)?;
    import::upsert_payments(tx, website, &payments(tx))?;
    after(tx)?;
    Ok(Committed::Done)
}

/// Of these transaction ids, those the website has as imported payments.
pub fn imported(conn: &Connection, website: &ObjectId, ids: &[String]) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT 1 FROM payments WHERE website_id = ?1 AND transaction_id = ?2 AND source = 'stripe'")?;
    let mut found = Vec::new();
    for id in ids {
        if stmt.exists(params![website, id])? {
            found.push(id.clone());
        }
    }
    Ok(found)
}

/// Whether a checkout session is stored under this payment intent, and an invoice under this payer.
pub fn surroundings_known(conn: &Connection, website: &ObjectId, payment_intent: &str) -> Result<(bool, bool)> {
    let checkout = conn
        .prepare_cached("SELECT 1 FROM stripe_checkout_refs WHERE website_id = ?1 AND ref = ?2")?
        .exists(params![website, payment_intent])?;
    let invoice = conn
        .prepare_cached("SELECT 1 FROM stripe_invoice_refs WHERE website_id = ?1 AND payer = ?2")?
        .exists(params![website, payment_intent])?;
    Ok((checkout, invoice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{migrate, users, websites};
    use crate::domain::Actor;

    fn site(conn: &mut Connection) -> ObjectId {
        let user = users::create(conn, "a@example.com", None, None).unwrap();
        let new =
            crate::domain::website::NewWebsite { domain: "a.example.com".into(), name: None, timezone: "UTC".into() };
        websites::create(conn, &user, &new, &Actor::cli()).unwrap().website_id
    }

    #[test]
    fn an_event_is_new_once_and_forgotten_after_a_week() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate::run(&mut conn).unwrap();
        let site = site(&mut conn);
        let now = 1_779_321_600;
        assert!(record_event(&conn, &site, "evt_1", now).unwrap());
        assert!(!record_event(&conn, &site, "evt_1", now + 60).unwrap(), "a retried delivery");
        assert!(record_event(&conn, &site, "evt_2", now + 60).unwrap());
        let count =
            |c: &Connection| c.query_row("SELECT COUNT(*) FROM stripe_webhook_events", [], |r| r.get::<_, i64>(0));
        assert_eq!(count(&conn).unwrap(), 2);
        assert!(record_event(&conn, &site, "evt_3", now + EVENT_MEMORY_SECS + 61).unwrap());
        assert_eq!(count(&conn).unwrap(), 1, "the week-old ids are pruned");
        assert!(record_event(&conn, &site, "evt_1", now + EVENT_MEMORY_SECS + 62).unwrap());
    }
}
