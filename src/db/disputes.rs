//! Disputes (migration 0012): one row per dispute, written by the import with the page it came on. Triggers carry
//! each dispute's cost onto its payment, whose own triggers keep the revenue rollups; and whether the provider let
//! the import read disputes at all.

use rusqlite::{Connection, params};

use crate::db::optional;
use crate::domain::ObjectId;
use crate::domain::dispute::{NewDispute, is_open};
use crate::error::Result;

/// Records a dispute, or brings a known one up to date (its status changes until it is decided). An unchanged
/// dispute is not rewritten, so its payment's rollups are not touched again.
pub fn upsert(conn: &Connection, website: &ObjectId, d: &NewDispute) -> Result<()> {
    let (loss_settled, settled_currency) = match &d.loss_settled {
        Some((amount, currency)) => (Some(*amount), Some(currency.as_str())),
        None => (None, None),
    };
    conn.prepare_cached(
        "INSERT INTO stripe_disputes (website_id, id, charge_id, amount, currency, status, reason, created,
                                      charge_refundable, loss, loss_settled, settled_currency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (website_id, id) DO UPDATE SET charge_id = excluded.charge_id, amount = excluded.amount,
             currency = excluded.currency, status = excluded.status, reason = excluded.reason,
             charge_refundable = excluded.charge_refundable, loss = excluded.loss,
             loss_settled = excluded.loss_settled, settled_currency = excluded.settled_currency
         WHERE stripe_disputes.charge_id IS NOT excluded.charge_id OR stripe_disputes.amount IS NOT excluded.amount
            OR stripe_disputes.currency IS NOT excluded.currency OR stripe_disputes.status IS NOT excluded.status
            OR stripe_disputes.reason IS NOT excluded.reason
            OR stripe_disputes.charge_refundable IS NOT excluded.charge_refundable
            OR stripe_disputes.loss IS NOT excluded.loss OR stripe_disputes.loss_settled IS NOT excluded.loss_settled
            OR stripe_disputes.settled_currency IS NOT excluded.settled_currency",
    )?
    .execute(params![
        website,
        d.id,
        d.transaction_id,
        d.amount,
        d.currency,
        d.status,
        d.reason,
        d.created,
        d.charge_refundable,
        d.loss,
        loss_settled,
        settled_currency
    ])?;
    Ok(())
}

/// When the oldest dispute still waiting for a decision was opened (unix seconds), if any is.
pub fn oldest_open(conn: &Connection, website: &ObjectId) -> Result<Option<i64>> {
    let mut stmt = conn.prepare_cached("SELECT status, created FROM stripe_disputes WHERE website_id = ?1")?;
    let mut rows = stmt.query([website])?;
    let mut oldest: Option<i64> = None;
    while let Some(r) = rows.next()? {
        let status: String = r.get(0)?;
        if is_open(&status) {
            let created: i64 = r.get(1)?;
            oldest = Some(oldest.map_or(created, |o| o.min(created)));
        }
    }
    Ok(oldest)
}

/// Records why the provider refused the dispute list (`None`: it was read).
pub fn set_refused(conn: &Connection, website: &ObjectId, why: Option<&str>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE stripe_sync SET disputes_refused = ?2 WHERE website_id = ?1 AND disputes_refused IS NOT ?2",
    )?
    .execute(params![website, why])?;
    Ok(())
}

/// Why disputes are not imported, if the provider refused the list at the last try.
pub fn refused(conn: &Connection, website: &ObjectId) -> Result<Option<String>> {
    Ok(optional(
        conn.prepare_cached("SELECT disputes_refused FROM stripe_sync WHERE website_id = ?1")?
            .query_row([website], |r| r.get(0)),
    )?
    .flatten())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::db::payments::{self, upsert_imported};
    use crate::db::rollups::{rebuild_rollups, revenue_buckets, rollup_mismatches};
    use crate::domain::Actor;
    use crate::domain::payment::{NewPayment, Selection, Settlement};

    /// One user's website in a fresh database (the payments tests' own).
    fn website_db() -> (tempfile::TempDir, Db, ObjectId) {
        crate::db::payments::tests::website_db(1)
    }

    fn payment(id: &str, currency: &str, settled: Option<(i64, &str)>) -> NewPayment {
        NewPayment {
            transaction_id: id.into(),
            amount: 2900,
            currency: currency.into(),
            refunded_amount: 0,
            disputed: true,
            settled: settled.map(|(amount, currency)| Settlement { amount, currency: currency.into(), fee: 114 }),
            renewal: false,
            free_trial: false,
            visitor_id: Some("v1".into()),
            session_id: None,
            customer_id: None,
            customer_email: None,
            customer_name: None,
            paid_at: "2026-05-21T10:00:00.000Z".into(),
        }
    }

    fn dispute(id: &str, charge: &str, status: &str, loss: i64, settled: Option<(i64, &str)>) -> NewDispute {
        NewDispute {
            id: id.into(),
            transaction_id: charge.into(),
            amount: 2900,
            currency: "USD".into(),
            status: status.into(),
            reason: Some("fraudulent".into()),
            created: 1_779_400_000,
            charge_refundable: false,
            loss,
            loss_settled: settled.map(|(a, c)| (a, c.to_owned())),
        }
    }

    /// `(gross, refunds, disputes, attributed_net)` of 2026-05-21 in `currency`.
    fn day(c: &Connection, site: &ObjectId, currency: &str) -> (i64, i64, i64, i64) {
        let (buckets, _) = revenue_buckets(c, site, currency, 1_779_321_600, 1_779_408_000).unwrap();
        buckets
            .iter()
            .fold((0, 0, 0, 0), |s, b| (s.0 + b.gross, s.1 + b.refunds, s.2 + b.disputes, s.3 + b.attributed_net))
    }

    #[test]
    fn lost_and_won_disputes_move_net_revenue_and_the_rollups_equal_a_recount() {
        let (_dir, db, site) = website_db();
        db.with_conn(|c| {
            upsert_imported(c, &site, &payment("ch_same", "USD", Some((2900, "USD"))))?;
            upsert_imported(c, &site, &payment("ch_eur", "EUR", Some((3100, "USD"))))?;
            // Opened: withheld, nothing lost yet.
            upsert(c, &site, &dispute("du_1", "ch_same", "needs_response", 0, Some((0, "USD"))))?;
            assert_eq!(day(c, &site, "USD"), (6000, 0, 0, 6000));
            // Lost: amount and fee.
            upsert(c, &site, &dispute("du_1", "ch_same", "lost", 2900, Some((4400, "USD"))))?;
            assert_eq!(day(c, &site, "USD"), (6000, 0, 4400, 1600));
            assert!(rollup_mismatches(c)?.is_empty());
            // Won after all (Stripe reinstated amount and fee): net effect zero.
            upsert(c, &site, &dispute("du_1", "ch_same", "won", 0, Some((0, "USD"))))?;
            assert_eq!(day(c, &site, "USD"), (6000, 0, 0, 6000));
            // A lost dispute on a payment in another currency: its amount there, amount and fee in the settlement's.
            upsert(c, &site, &dispute("du_2", "ch_eur", "lost", 2900, Some((4600, "USD"))))?;
            assert_eq!(day(c, &site, "USD").2, 4600);
            assert_eq!(day(c, &site, "EUR"), (2900, 0, 2900, 0));
            let shown: (Option<String>, Option<i64>) = c.query_row(
                "SELECT dispute_status, dispute_amount FROM payments WHERE transaction_id = 'ch_eur'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            assert_eq!(shown, (Some("lost".into()), Some(2900)));
            assert!(rollup_mismatches(c)?.is_empty());
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_payment_imported_after_its_dispute_and_one_deleted_keep_the_rollups_right() {
        let (_dir, db, site) = website_db();
        db.with_conn(|c| {
            upsert(c, &site, &dispute("du_1", "ch_late", "lost", 2900, Some((4400, "USD"))))?;
            upsert(c, &site, &dispute("du_2", "ch_unsettled", "lost", 2900, None))?;
            assert_eq!(day(c, &site, "USD"), (0, 0, 0, 0), "no payment yet, nothing to take from");
            upsert_imported(c, &site, &payment("ch_late", "USD", Some((2900, "USD"))))?;
            assert_eq!(day(c, &site, "USD"), (2900, 0, 4400, -1500));
            assert!(rollup_mismatches(c)?.is_empty(), "the link and the rollup triggers agree whatever their order");
            // No balance transaction listed: the loss counts pro rata of the settlement once there is one.
            upsert_imported(c, &site, &payment("ch_unsettled", "EUR", None))?;
            assert_eq!(day(c, &site, "EUR"), (2900, 0, 2900, 0));
            upsert_imported(c, &site, &payment("ch_unsettled", "EUR", Some((3200, "USD"))))?;
            assert_eq!(day(c, &site, "USD").2, 4400 + 3200);
            assert!(rollup_mismatches(c)?.is_empty());
            payments::delete(c, &site, &Selection::Transaction("ch_late".into()), &Actor::cli())?;
            assert_eq!(day(c, &site, "USD"), (3200, 0, 3200, 0));
            assert!(rollup_mismatches(c)?.is_empty());
            c.execute("UPDATE revenue_rollups SET disputes = disputes + 1 WHERE currency = 'USD'", [])?;
            assert_eq!(rollup_mismatches(c)?, vec![site.clone()], "a drift in the disputes is found");
            rebuild_rollups(c)?;
            assert!(rollup_mismatches(c)?.is_empty());
            assert_eq!(oldest_open(c, &site)?, None);
            upsert(c, &site, &dispute("du_3", "ch_unsettled", "under_review", 0, None))?;
            assert_eq!(oldest_open(c, &site)?, Some(1_779_400_000));
            Ok(())
        })
        .unwrap();
    }
}
