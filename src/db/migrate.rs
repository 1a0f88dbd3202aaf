//! Schema migrations, embedded in the binary and applied by `PRAGMA user_version`, each in its own
//! transaction. A database written by a newer revlink is refused rather than downgraded.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// In order; the database's `user_version` is the number applied.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/0001_init.sql")),
    ("0002_sessions", include_str!("../../migrations/0002_sessions.sql")),
    ("0003_payments", include_str!("../../migrations/0003_payments.sql")),
    ("0004_stripe_import", include_str!("../../migrations/0004_stripe_import.sql")),
    ("0005_revenue_rollups", include_str!("../../migrations/0005_revenue_rollups.sql")),
    ("0006_rollups_by_bucket", include_str!("../../migrations/0006_rollups_by_bucket.sql")),
    ("0007_visitors", include_str!("../../migrations/0007_visitors.sql")),
    ("0008_visit_reports", include_str!("../../migrations/0008_visit_reports.sql")),
    ("0009_tracking_settings", include_str!("../../migrations/0009_tracking_settings.sql")),
    ("0010_packed_columns", include_str!("../../migrations/0010_packed_columns.sql")),
    ("0011_invitation_expiry", include_str!("../../migrations/0011_invitation_expiry.sql")),
    ("0012_disputes", include_str!("../../migrations/0012_disputes.sql")),
    ("0013_reconciliation", include_str!("../../migrations/0013_reconciliation.sql")),
    ("0014_stripe_webhooks", include_str!("../../migrations/0014_stripe_webhooks.sql")),
    ("0016_stripe_account", include_str!("../../migrations/0016_stripe_account.sql")),
    // 0015 was renamed 0017 when it landed after 0016: a schema version is a position in this list.
    ("0017_subscriptions", include_str!("../../migrations/0017_subscriptions.sql")),
];

pub fn run(conn: &mut Connection) -> Result<()> {
    run_to(conn, MIGRATIONS.len())
}

/// Applies the pending migrations among the first `count`.
fn run_to(conn: &mut Connection, count: usize) -> Result<()> {
    let applied: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let applied = usize::try_from(applied).map_err(Error::internal)?;
    if applied > MIGRATIONS.len() {
        return Err(Error::Internal(format!(
            "the database has schema version {applied}, newer than this revlink knows ({}); upgrade revlink",
            MIGRATIONS.len()
        )));
    }
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().take(count).skip(applied) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(index + 1).map_err(Error::internal)?)?;
        tx.commit()?;
        tracing::debug!(migration = name, "applied database migration");
    }
    let now = count.min(MIGRATIONS.len());
    if now > applied {
        let first = if applied == 0 { "created the database schema" } else { "upgraded the database schema" };
        tracing::info!(from = applied, to = now, last = MIGRATIONS[now - 1].0, "{first}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_refuse_downgrade() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        run(&mut conn).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(usize::try_from(v).unwrap(), MIGRATIONS.len());
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(run(&mut conn).unwrap_err().to_string().contains("newer"));
    }

    #[test]
    fn rollups_rekeyed_by_bucket_keep_the_payments_recorded_before() {
        use crate::db::{payments, rollups, users, websites};
        use crate::domain::Actor;
        use crate::domain::payment::{NewPayment, Settlement};
        let mut conn = Connection::open_in_memory().unwrap();
        run_to(&mut conn, 5).unwrap();
        let user = users::create(&conn, "a@example.com", None, None).unwrap();
        let new =
            crate::domain::website::NewWebsite { domain: "a.example.com".into(), name: None, timezone: "UTC".into() };
        let site = websites::create(&mut conn, &user, &new, &Actor::cli()).unwrap().website_id;
        for i in 0..40_i64 {
            let payment = NewPayment {
                transaction_id: format!("tx_{i}"),
                amount: 1000 + i,
                currency: if i % 3 == 0 { "EUR" } else { "USD" }.into(),
                refunded_amount: i % 5,
                disputed: false,
                settled: (i % 3 == 0).then(|| Settlement { amount: 1100 + i, currency: "USD".into(), fee: 30 }),
                renewal: i % 4 == 0,
                free_trial: false,
                visitor_id: (i % 2 == 0).then(|| format!("v{i}")),
                session_id: None,
                customer_id: None,
                customer_email: None,
                customer_name: None,
                paid_at: format!("2026-05-{:02}T{:02}:{:02}:00.000Z", 1 + i % 3, i % 24, (i * 7) % 60),
            };
            payments::record(&conn, &site, "api", &payment).unwrap();
        }
        let stored = |conn: &Connection| -> Vec<(String, i64, i64, i64)> {
            let mut stmt = conn
                .prepare("SELECT currency, bucket, gross, payments FROM revenue_rollups ORDER BY bucket, currency")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let before = stored(&conn);
        assert!(before.len() > 40, "{}", before.len());
        run(&mut conn).unwrap();
        assert_eq!(stored(&conn), before);
        assert!(rollups::rollup_mismatches(&conn).unwrap().is_empty());
        // And the new triggers carry on from there.
        conn.execute("UPDATE payments SET refunded_amount = amount WHERE transaction_id = 'tx_3'", []).unwrap();
        conn.execute("DELETE FROM payments WHERE transaction_id = 'tx_8'", []).unwrap();
        assert!(rollups::rollup_mismatches(&conn).unwrap().is_empty());
        let partial: String = conn
            .query_row("SELECT sql FROM sqlite_schema WHERE name = 'payments_by_visitor'", [], |r| r.get(0))
            .unwrap();
        assert!(partial.ends_with("WHERE visitor_id IS NOT NULL"), "{partial}");
    }

    #[test]
    fn sessions_rekeyed_by_start_learn_their_previous_session_and_acquisition() {
        type Row = (String, Option<i64>, i64, String, String, Option<String>, Option<String>, Option<String>);
        use crate::db::{users, websites};
        use crate::domain::Actor;
        let mut conn = Connection::open_in_memory().unwrap();
        run_to(&mut conn, 7).unwrap();
        let user = users::create(&conn, "a@example.com", None, None).unwrap();
        let new =
            crate::domain::website::NewWebsite { domain: "a.example.com".into(), name: None, timezone: "UTC".into() };
        let site = websites::create(&mut conn, &user, &new, &Actor::cli()).unwrap().website_id;
        conn.execute(
            "INSERT INTO visitors (website_id, visitor_id, first_seen, last_seen, last_session_id, referrer, utm_source,
                                   landing_path, hostname, country, device)
             VALUES (?1, 'v1', 100, 900, 's3', 'Google', 'news', '/a', 'a.example.com', 'DE', 'mobile'),
                    (?1, 'v2', 200, 200, 't1', 'Direct/None', NULL, '/', 'a.example.com', NULL, NULL)",
            [&site],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO visitor_sessions (website_id, session_id, visitor_id, started_at, last_seen, pageviews, entry_path)
             VALUES (?1, 's2', 'v1', 500, 600, 2, '/b'), (?1, 's1', 'v1', 100, 150, 1, '/a'),
                    (?1, 's3', 'v1', 800, 900, 3, '/c'), (?1, 't1', 'v2', 200, 200, 1, '/')",
            [&site],
        )
        .unwrap();
        run(&mut conn).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT session_id, prev_started_at, pageviews, entry_path, referrer, utm_source, country, device
                 FROM visitor_sessions ORDER BY started_at",
            )
            .unwrap();
        let rows: Vec<Row> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mobile = || (Some("news".to_owned()), Some("DE".to_owned()), Some("mobile".to_owned()));
        let s = |id: &str,
                 prev: Option<i64>,
                 pv: i64,
                 path: &str,
                 referrer: &str,
                 (u, c, d): (Option<String>, Option<String>, Option<String>)| {
            (id.to_owned(), prev, pv, path.to_owned(), referrer.to_owned(), u, c, d)
        };
        assert_eq!(
            rows,
            vec![
                s("s1", None, 1, "/a", "Google", mobile()),
                s("t1", None, 1, "/", "Direct/None", (None, None, None)),
                s("s2", Some(100), 2, "/b", "Google", mobile()),
                s("s3", Some(500), 3, "/c", "Google", mobile()),
            ]
        );
        let by_id: String = conn
            .query_row(
                "SELECT started_at FROM visitor_sessions WHERE website_id = ?1 AND session_id = 's2'",
                [&site],
                |r| r.get::<_, i64>(0).map(|v| v.to_string()),
            )
            .unwrap();
        assert_eq!(by_id, "500", "found by its id through the unique index");
        // 0010 packs the campaign values into one column (v1's sessions have one, v2's none), and the landing page.
        let mut stmt = conn
            .prepare("SELECT session_id, campaign, landing_page FROM visitor_sessions ORDER BY started_at")
            .unwrap();
        let packed: Vec<(String, Option<String>, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
        let news = Some(r#"["news",null,null,null,null,null,null,null]"#.to_owned());
        let (a, root) = (|| "a.example.com/a".to_owned(), "a.example.com/".to_owned());
        assert_eq!(
            packed,
            [
                ("s1".into(), news.clone(), a()),
                ("t1".into(), None, root),
                ("s2".into(), news.clone(), a()),
                ("s3".into(), news, a())
            ]
        );
    }
}
