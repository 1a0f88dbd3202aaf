//! Revenue rollups (migration 0005): the sums per website, currency and UTC quarter hour that the revenue
//! summary reads. Triggers keep them with every payment write; here they are read, compared with a
//! recount of the payments, and rebuilt.

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
    let mut stmt = conn.prepare_cached(
        "SELECT bucket, gross, refunds, payments, renewal_net, renewal_payments, attributed_net, attributed_payments
         FROM revenue_rollups WHERE website_id = ?1 AND currency = ?2 AND bucket >= ?3 AND bucket < ?4
         ORDER BY bucket",
    )?;
    let rows = stmt.query_map(params![website, currency, start, end], |r| {
        Ok(RevenueBucket {
            start: r.get(0)?,
            gross: r.get(1)?,
            refunds: r.get(2)?,
            payments: r.get(3)?,
            renewal_net: r.get(4)?,
            renewal_payments: r.get(5)?,
            attributed_net: r.get(6)?,
            attributed_payments: r.get(7)?,
        })
    })?;
    let buckets = rows.collect::<rusqlite::Result<_>>()?;
    let all: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(payments), 0) FROM revenue_rollups
             WHERE website_id = ?1 AND currency = '' AND bucket >= ?2 AND bucket < ?3",
        )?
        .query_row(params![website, start, end], |r| r.get(0))?;
    Ok((buckets, all))
}

/// Websites whose rollups differ from a recount of their payments (`revlink check`).
pub fn rollup_mismatches(conn: &Connection) -> Result<Vec<ObjectId>> {
    let mut stmt = conn.prepare(
        "WITH recount AS (
             SELECT website_id, currency, bucket, SUM(gross) AS gross, SUM(refunds) AS refunds, COUNT(*) AS payments,
                    SUM(renewal * (gross - refunds)) AS renewal_net, SUM(renewal) AS renewal_payments,
                    SUM(attributed * (gross - refunds)) AS attributed_net, SUM(attributed) AS attributed_payments
             FROM payment_contributions GROUP BY website_id, currency, bucket),
         stored AS (
             SELECT website_id, currency, bucket, gross, refunds, payments, renewal_net, renewal_payments,
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
             INSERT INTO revenue_rollups (website_id, currency, bucket, gross, refunds, payments, renewal_net,
                                          renewal_payments, attributed_net, attributed_payments)
             SELECT website_id, currency, bucket, SUM(gross), SUM(refunds), COUNT(*), SUM(renewal * (gross - refunds)),
                    SUM(renewal), SUM(attributed * (gross - refunds)), SUM(attributed)
             FROM payment_contributions GROUP BY website_id, currency, bucket;",
        )?;
        Ok(())
    })
}
