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
];

pub fn run(conn: &mut Connection) -> Result<()> {
    let applied: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let applied = usize::try_from(applied).map_err(Error::internal)?;
    if applied > MIGRATIONS.len() {
        return Err(Error::Internal(format!(
            "the database has schema version {applied}, newer than this revlink knows ({}); upgrade revlink",
            MIGRATIONS.len()
        )));
    }
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(index + 1).map_err(Error::internal)?)?;
        tx.commit()?;
        tracing::info!(migration = name, "applied database migration");
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
}
