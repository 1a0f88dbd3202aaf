//! Payments: one row per money movement, idempotent on the website's transaction id.

use rusqlite::{Connection, params};

use crate::db::{self, audit};
use crate::domain::dispute::DisputeView;
use crate::domain::payment::{NewPayment, PaymentFilter, PaymentView, Recorded, Selection};
use crate::domain::{Actor, ObjectId};
use crate::error::Result;

const INSERT: &str = "INSERT INTO payments (id, website_id, source, transaction_id, amount, currency, refunded_amount,
        settled_amount, settled_currency, fee, renewal, free_trial, visitor_id, session_id, customer_id, customer_email,
        customer_name, paid_at, recorded_at, disputed)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";

/// Records a payment unless its transaction id is known (the Payments API: a repeat is ignored).
pub fn record(conn: &Connection, website: &ObjectId, source: &str, p: &NewPayment) -> Result<Recorded> {
    let id = ObjectId::generate();
    let mut stmt = conn.prepare_cached(&format!("{INSERT} ON CONFLICT (website_id, transaction_id) DO NOTHING"))?;
    let inserted = with_params(&id, website, source, p, |params| stmt.execute(params))?;
    Ok(if inserted == 1 { Recorded::New } else { Recorded::Duplicate })
}

/// Records an imported Stripe payment, or brings a known one up to date: what changes after a
/// payment (refunds, disputes, settlement, attribution found later) is taken from the newer read.
/// Answers whether the payment is new.
pub fn upsert_imported(conn: &Connection, website: &ObjectId, p: &NewPayment) -> Result<bool> {
    let id = ObjectId::generate();
    let sql = format!(
        "{INSERT} ON CONFLICT (website_id, transaction_id) DO UPDATE SET refunded_amount = excluded.refunded_amount,
             disputed = excluded.disputed,
             settled_amount = COALESCE(excluded.settled_amount, payments.settled_amount),
             settled_currency = COALESCE(excluded.settled_currency, payments.settled_currency),
             fee = COALESCE(excluded.fee, payments.fee),
             renewal = excluded.renewal,
             visitor_id = COALESCE(excluded.visitor_id, payments.visitor_id),
             session_id = COALESCE(excluded.session_id, payments.session_id),
             customer_id = COALESCE(excluded.customer_id, payments.customer_id),
             customer_email = COALESCE(excluded.customer_email, payments.customer_email),
             customer_name = COALESCE(excluded.customer_name, payments.customer_name)
         WHERE payments.source = 'stripe'
         RETURNING id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let written: Option<ObjectId> =
        db::optional(with_params(&id, website, "stripe", p, |params| stmt.query_row(params, |r| r.get(0))))?;
    Ok(written.as_ref() == Some(&id))
}

/// Calls `f` with the INSERT's parameters for payment `p` under row id `id`.
fn with_params<T>(
    id: &ObjectId,
    website: &ObjectId,
    source: &str,
    p: &NewPayment,
    f: impl FnOnce(&[&dyn rusqlite::ToSql]) -> T,
) -> T {
    let settled = p.settled.as_ref();
    f(params![
        id,
        website,
        source,
        p.transaction_id,
        p.amount,
        p.currency,
        p.refunded_amount,
        settled.map(|s| s.amount),
        settled.map(|s| s.currency.as_str()),
        settled.map(|s| s.fee),
        p.renewal,
        p.free_trial,
        p.visitor_id,
        p.session_id,
        p.customer_id,
        p.customer_email,
        p.customer_name,
        p.paid_at,
        db::now(),
        p.disputed
    ])
}

/// Deletes the selected payments and records it in the audit log; answers how many. Run it inside a
/// transaction (the writer's, `Db::write`), so that the deletion and its audit line are written together.
pub fn delete(tx: &Connection, website: &ObjectId, selection: &Selection, actor: &Actor) -> Result<usize> {
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
        audit::record(tx, actor, Some(website), "payments.delete", &format!("{removed} ({what})"))?;
    }
    Ok(removed)
}

const VIEW_COLUMNS: &str = "id, source, transaction_id, amount, currency, refunded_amount, settled_amount, settled_currency, \
     fee, renewal, free_trial, visitor_id, session_id, customer_id, customer_email, customer_name, paid_at, disputed, \
     dispute_status, dispute_amount";

fn view(r: &rusqlite::Row<'_>) -> rusqlite::Result<PaymentView> {
    Ok(PaymentView {
        id: r.get(0)?,
        source: r.get(1)?,
        transaction_id: r.get(2)?,
        amount: r.get(3)?,
        currency: r.get(4)?,
        refunded_amount: r.get(5)?,
        settled_amount: r.get(6)?,
        settled_currency: r.get(7)?,
        fee: r.get(8)?,
        renewal: r.get(9)?,
        free_trial: r.get(10)?,
        visitor_id: r.get(11)?,
        session_id: r.get(12)?,
        customer_id: r.get(13)?,
        customer_email: r.get(14)?,
        customer_name: r.get(15)?,
        paid_at: r.get(16)?,
        disputed: r.get(17)?,
        dispute: r
            .get::<_, Option<String>>(18)?
            .map(|status| {
                Ok::<_, rusqlite::Error>(DisputeView { status, amount: r.get::<_, Option<i64>>(19)?.unwrap_or(0) })
            })
            .transpose()?,
    })
}

/// Newest first; `after` is the `_id` of the last payment of the previous page.
pub fn list(
    conn: &Connection,
    website: &ObjectId,
    limit: u32,
    after: Option<&ObjectId>,
    filter: &PaymentFilter,
) -> Result<Vec<PaymentView>> {
    // The bounds always apply (open ones as the widest strings), so the time index serves any range.
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM payments WHERE website_id = ?1 AND paid_at >= ?4 AND paid_at < ?5
           AND (?2 IS NULL OR (paid_at, id) < (SELECT paid_at, id FROM payments WHERE id = ?2 AND website_id = ?1))
           AND CASE ?6 WHEN 'new' THEN renewal = 0 WHEN 'renewal' THEN renewal = 1
                       WHEN 'refunded' THEN refunded_amount > 0 WHEN 'attributed' THEN visitor_id IS NOT NULL
                       WHEN 'unattributed' THEN visitor_id IS NULL
                       WHEN 'disputed' THEN disputed = 1 OR dispute_status IS NOT NULL ELSE 1 END
         ORDER BY paid_at DESC, id DESC LIMIT ?3"
    );
    let (from, to) = (filter.from.as_deref().unwrap_or(""), filter.to.as_deref().unwrap_or("\u{10FFFF}"));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![website, after, limit, from, to, filter.kind.name()], view)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When the website's first payment was made (a stored-time string), if it has any.
pub fn first_paid_at(conn: &Connection, website: &ObjectId) -> Result<Option<String>> {
    let first = conn
        .prepare_cached("SELECT min(paid_at) FROM payments WHERE website_id = ?1")?
        .query_row(params![website], |r| r.get(0))?;
    Ok(first)
}

/// Renewals from `source` that no visitor is attributed to, with their customer: `(row id, customer)`.
pub fn unattributed_renewals(conn: &Connection, website: &ObjectId, source: &str) -> Result<Vec<(ObjectId, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, customer_id FROM payments
         WHERE website_id = ?1 AND source = ?2 AND renewal = 1 AND visitor_id IS NULL AND customer_id IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![website, source], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The visitor of the customer's earliest payment that has one.
pub fn first_visitor_of_customer(conn: &Connection, website: &ObjectId, customer: &str) -> Result<Option<String>> {
    db::optional(
        conn.prepare_cached(
            "SELECT visitor_id FROM payments
             WHERE website_id = ?1 AND customer_id = ?2 AND visitor_id IS NOT NULL ORDER BY paid_at LIMIT 1",
        )?
        .query_row(params![website, customer], |r| r.get(0)),
    )
}

pub fn set_visitor(conn: &Connection, id: &ObjectId, visitor: &str) -> Result<()> {
    conn.prepare_cached("UPDATE payments SET visitor_id = ?2 WHERE id = ?1")?.execute(params![id, visitor])?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::db::rollups::{rebuild_rollups, revenue_buckets, rollup_mismatches};
    use crate::db::{Db, users, websites};
    use crate::domain::revenue::RevenueBucket;

    /// A fresh database (with `pool` connections) holding one user's website.
    pub(crate) fn website_db(pool: u32) -> (tempfile::TempDir, Db, ObjectId) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3"), pool).unwrap();
        let site = db
            .with_conn(|c| {
                let user = users::create(c, "a@example.com", None, None)?;
                let new = crate::domain::website::NewWebsite {
                    domain: "a.example.com".into(),
                    name: None,
                    timezone: "UTC".into(),
                };
                Ok(websites::create(c, &user, &new, &Actor::cli())?.website_id)
            })
            .unwrap();
        (dir, db, site)
    }

    fn payment(id: &str) -> NewPayment {
        NewPayment {
            transaction_id: id.into(),
            amount: 2900,
            currency: "USD".into(),
            refunded_amount: 0,
            disputed: false,
            settled: None,
            renewal: false,
            free_trial: false,
            visitor_id: None,
            session_id: None,
            customer_id: None,
            customer_email: None,
            customer_name: None,
            paid_at: "2026-05-21T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn rollups_follow_every_write_and_equal_a_recount() {
        let (_dir, db, site) = website_db(2);
        db.with_conn(|c| {
            let day = (1_779_321_600, 1_779_321_600 + 86_400); // 2026-05-21 UTC
            record(c, &site, "api", &payment("usd_1"))?;
            let mut euro = payment("ch_eur");
            euro.currency = "EUR".into();
            euro.amount = 1000;
            euro.settled = Some(crate::domain::payment::Settlement { amount: 1100, currency: "USD".into(), fee: 30 });
            upsert_imported(c, &site, &euro)?;
            let mut other = payment("gbp_1");
            other.currency = "GBP".into();
            record(c, &site, "api", &other)?;
            // Later: a refund of half the euro charge and its visitor found; a renewal attributed afterwards.
            euro.refunded_amount = 500;
            euro.visitor_id = Some("v1".into());
            upsert_imported(c, &site, &euro)?;
            let mut renewal = payment("ch_renewal");
            renewal.renewal = true;
            renewal.customer_id = Some("cus_1".into());
            upsert_imported(c, &site, &renewal)?;
            let (id, _) = unattributed_renewals(c, &site, "stripe")?.pop().unwrap();
            set_visitor(c, &id, "v1")?;

            let (usd, all) = revenue_buckets(c, &site, "USD", day.0, day.1)?;
            let sum = |f: fn(&RevenueBucket) -> i64| usd.iter().map(f).sum::<i64>();
            assert_eq!(all, 4, "every payment, whatever its currency");
            assert_eq!((sum(|b| b.gross), sum(|b| b.refunds), sum(|b| b.payments)), (2900 + 1100 + 2900, 550, 3));
            assert_eq!((sum(|b| b.renewal_net), sum(|b| b.renewal_payments)), (2900, 1));
            assert_eq!((sum(|b| b.attributed_net), sum(|b| b.attributed_payments)), (550 + 2900, 2));
            let (eur, _) = revenue_buckets(c, &site, "EUR", day.0, day.1)?;
            assert_eq!(eur.iter().map(|b| (b.gross, b.refunds)).collect::<Vec<_>>(), vec![(1000, 500)]);
            assert!(rollup_mismatches(c)?.is_empty());

            delete(c, &site, &Selection::Transaction("ch_eur".into()), &Actor::cli())?;
            let (usd, all) = revenue_buckets(c, &site, "USD", day.0, day.1)?;
            assert_eq!((usd.iter().map(|b| b.gross).sum::<i64>(), all), (5800, 3));
            assert!(revenue_buckets(c, &site, "EUR", day.0, day.1)?.0.is_empty(), "emptied buckets go");
            assert!(rollup_mismatches(c)?.is_empty());

            c.execute("UPDATE revenue_rollups SET gross = gross + 1 WHERE currency = 'USD'", [])?;
            assert_eq!(rollup_mismatches(c)?, vec![site.clone()], "a drift is found");
            rebuild_rollups(c)?;
            assert!(rollup_mismatches(c)?.is_empty(), "and repaired");
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_full_disk_keeps_nothing_half_written_and_writes_resume_with_space() {
        // One pooled connection, so the page cap below holds for every statement.
        let (_dir, db, site) = website_db(1);
        let pages: i64 = db.with_conn(|c| Ok(c.query_row("PRAGMA page_count", [], |r| r.get(0))?)).unwrap();
        db.with_conn(|c| Ok(c.pragma_update(None, "max_page_count", pages)?)).unwrap();
        let mut big = payment("tx_big");
        big.customer_name = Some("x".repeat(400));
        let mut full = None;
        for i in 0..200 {
            big.transaction_id = format!("tx_{i}");
            if let Err(e) = db.with_conn(|c| record(c, &site, "api", &big)) {
                full = Some((i, e));
                break;
            }
        }
        let (stored, err) = full.expect("the cap is reached");
        assert!(matches!(err, crate::error::Error::Storage(m) if m.starts_with("Storage is full")), "{err:?}");
        assert_eq!(err.status(), rocket::http::Status::ServiceUnavailable);
        let count = |db: &Db| -> i64 {
            db.with_conn(|c| Ok(c.query_row("SELECT COUNT(*) FROM payments", [], |r| r.get(0))?)).unwrap()
        };
        assert_eq!(count(&db), stored, "reads go on, and the refused payment is not there");
        assert!(db.with_conn(|c| rollup_mismatches(c)).unwrap().is_empty(), "no half-written rollup");
        db.with_conn(|c| Ok(c.pragma_update(None, "max_page_count", pages * 100)?)).unwrap();
        db.with_conn(|c| record(c, &site, "api", &big)).unwrap();
        assert_eq!(count(&db), stored + 1, "writes resume once there is space");
    }

    #[test]
    fn imports_update_what_changes_and_never_touch_api_payments() {
        let (_dir, db, site) = website_db(2);
        db.with_conn(|c| {
            upsert_imported(c, &site, &payment("ch_1"))?;
            let mut later = payment("ch_1");
            later.refunded_amount = 900;
            later.visitor_id = Some("v1".into());
            later.settled = Some(crate::domain::payment::Settlement { amount: 2641, currency: "EUR".into(), fee: 107 });
            upsert_imported(c, &site, &later)?;
            let mut without_visitor = later.clone();
            without_visitor.visitor_id = None;
            upsert_imported(c, &site, &without_visitor)?;
            let row: (i64, i64, Option<String>, Option<i64>) = c.query_row(
                "SELECT COUNT(*), SUM(refunded_amount), MAX(visitor_id), MAX(settled_amount) FROM payments",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            assert_eq!(row, (1, 900, Some("v1".into()), Some(2641)), "one row, brought up to date, attribution kept");

            assert_eq!(record(c, &site, "api", &payment("tx_api"))?, Recorded::New);
            let mut clash = payment("tx_api");
            clash.refunded_amount = 2900;
            upsert_imported(c, &site, &clash)?;
            let refunded: i64 =
                c.query_row("SELECT refunded_amount FROM payments WHERE transaction_id = 'tx_api'", [], |r| r.get(0))?;
            assert_eq!(refunded, 0, "an import never rewrites a payment posted through the API");
            Ok(())
        })
        .unwrap();
    }
}
