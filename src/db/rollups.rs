//! Revenue rollups (migrations 0005, 0006, 0012): the sums per website, UTC quarter hour and currency that the revenue
//! summary reads. Triggers keep them with every payment write; here they are read, compared with a
//! recount of the payments, and rebuilt.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};

use crate::db;
use crate::domain::ObjectId;
use crate::domain::revenue::RevenueBucket;
use crate::error::Result;

/// The quarter hours of `[start, end)` (Unix seconds) as counted in `currency`, from the rollups, and
/// how many payments the range has in any currency.
pub fn revenue_buckets(
    conn: &Connection,
    website: &ObjectId,
    currency: &str,
    start: i64,
    end: i64,
) -> Result<(Vec<RevenueBucket>, i64)> {
    // One pass over the range's rows of every currency (they sit together, keyed by bucket first): the
    // shown currency's are the buckets, the '' rows count every payment.
    let mut stmt = conn.prepare_cached(
        "SELECT bucket, currency, gross, refunds, payments, renewal_net, renewal_payments, attributed_net,
                attributed_payments, disputes
         FROM revenue_rollups WHERE website_id = ?1 AND bucket >= ?2 AND bucket < ?3 AND currency IN (?4, '')
         ORDER BY bucket",
    )?;
    let mut rows = stmt.query(params![website, start, end, currency])?;
    let (mut buckets, mut all) = (Vec::new(), 0i64);
    while let Some(r) = rows.next()? {
        if r.get_ref(1)? == ValueRef::Text(b"") {
            all = all.saturating_add(r.get(4)?);
            continue;
        }
        buckets.push(RevenueBucket {
            start: r.get(0)?,
            gross: r.get(2)?,
            refunds: r.get(3)?,
            payments: r.get(4)?,
            renewal_net: r.get(5)?,
            renewal_payments: r.get(6)?,
            attributed_net: r.get(7)?,
            attributed_payments: r.get(8)?,
            disputes: r.get(9)?,
        });
    }
    Ok((buckets, all))
}

/// Websites whose rollups differ from a recount of their payments (`revlink check`).
pub fn rollup_mismatches(conn: &Connection) -> Result<Vec<ObjectId>> {
    let mut stmt = conn.prepare(
        "WITH recount AS (
             SELECT website_id, currency, bucket, SUM(gross) AS gross, SUM(refunds) AS refunds,
                    SUM(disputes) AS disputes, COUNT(*) AS payments,
                    SUM(renewal * (gross - refunds - disputes)) AS renewal_net, SUM(renewal) AS renewal_payments,
                    SUM(attributed * (gross - refunds - disputes)) AS attributed_net,
                    SUM(attributed) AS attributed_payments
             FROM payment_contributions GROUP BY website_id, currency, bucket),
         stored AS (
             SELECT website_id, currency, bucket, gross, refunds, disputes, payments, renewal_net, renewal_payments,
                    attributed_net, attributed_payments
             FROM revenue_rollups WHERE payments <> 0)
         SELECT website_id FROM (SELECT * FROM recount EXCEPT SELECT * FROM stored)
         UNION
         SELECT website_id FROM (SELECT * FROM stored EXCEPT SELECT * FROM recount)
         ORDER BY website_id",
    )?;
    let ids = stmt.query_map([], |r| r.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

/// Rebuilds every rollup from the payments, in one transaction (`revlink check --repair`).
pub fn rebuild_rollups(conn: &mut Connection) -> Result<()> {
    db::in_transaction(conn, |tx| {
        tx.execute_batch(
            "DELETE FROM revenue_rollups;
             INSERT INTO revenue_rollups (website_id, currency, bucket, gross, refunds, disputes, payments, renewal_net,
                                          renewal_payments, attributed_net, attributed_payments)
             SELECT website_id, currency, bucket, SUM(gross), SUM(refunds), SUM(disputes), COUNT(*),
                    SUM(renewal * (gross - refunds - disputes)), SUM(renewal),
                    SUM(attributed * (gross - refunds - disputes)), SUM(attributed)
             FROM payment_contributions GROUP BY website_id, currency, bucket;",
        )?;
        Ok(())
    })
}
