//! The SQLite pool, the connection settings every connection gets, and `Db::run`, which keeps
//! database work off the async executor. One file per table family beside this one.

pub mod audit;
pub mod backup;
pub mod check;
pub mod credentials;
pub mod import;
pub mod migrate;
pub mod payments;
pub mod sessions;
pub mod stripe;
pub mod team;
pub mod users;
pub mod websites;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};

pub type Pool = r2d2::Pool<SqliteConnectionManager>;

/// Pragmas set on every new connection (WAL itself is set once, in `open`, and stays with the file).
/// WAL lets readers run beside the one writer; `secure_delete`
/// overwrites deleted ciphertext instead of leaving it in free pages.
fn configure(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA busy_timeout = 5000;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
    )
}

/// Bytes of memory SQLite keeps (page caches, statements) before it recycles cache pages.
const SQLITE_HEAP_LIMIT: i64 = 4 << 20;

/// A handle to the pool; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// At most one thread per pooled connection (and per core). Database work queues here, so a busy thread takes the next
    /// job without sleeping; tokio's general blocking pool would wake a fresh thread per query.
    threads: Arc<rayon::ThreadPool>,
    /// The database file, for work that needs a connection of its own (a backup).
    path: Arc<PathBuf>,
}

impl Db {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path, pool_size: u32) -> Result<Self> {
        // Switching to WAL and migrating happen on one connection, before the pool opens its
        // connections in parallel (a journal-mode switch would lock those out).
        let mut first = Connection::open(path)?;
        configure(&mut first)?;
        first.pragma_update(None, "journal_mode", "WAL")?;
        // One cap for all pooled connections' page caches (SQLite's default is 2 MB each): memory
        // stays flat however large the database grows.
        first.pragma_update(None, "soft_heap_limit", SQLITE_HEAP_LIMIT)?;
        migrate::run(&mut first)?;
        drop(first);

        let manager = SqliteConnectionManager::file(path).with_init(configure);
        let size = pool_size.max(1);
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .connection_timeout(Duration::from_secs(10))
            // A local file does not go stale; checking each checkout would cost a query every time.
            .test_on_check_out(false)
            .build(manager)?;
        // More threads than cores only adds context switches; two keep a slow query from holding up the rest.
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads((size as usize).min(cores.max(2)))
            .thread_name(|i| format!("revlink-db-{i}"))
            .build()
            .map_err(Error::internal)?;
        Ok(Self { pool, threads: Arc::new(threads), path: Arc::new(path.to_owned()) })
    }

    /// The database file this pool opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a pooled connection on the current thread (the admin commands use this).
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.pool.get()?;
        f(&mut conn)
    }

    /// Runs `f` on a pooled connection on one of the database threads, off the async executor.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let db = self.clone();
        self.threads.spawn(move || {
            // The receiver is gone only when the request was dropped; the result is then moot.
            let _ = tx.send(db.with_conn(f));
        });
        rx.await.map_err(|_| Error::internal("a database job panicked"))?
    }
}

pub use crate::domain::timestamp::{format_time, now};

/// Runs `f` in one immediate transaction: all of it is written, or none.
pub fn in_transaction<T>(conn: &mut Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

/// `query_row` that maps "no row" to `None`.
pub fn optional<T>(result: rusqlite::Result<T>) -> Result<Option<T>> {
    Ok(result.optional()?)
}

/// A unique-constraint violation (used to answer 409 instead of 500).
pub fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(e, _) if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_sets_wal_foreign_keys_and_secure_delete() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3"), 2).unwrap();
        db.with_conn(|c| {
            let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            let fk: i64 = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
            let sd: i64 = c.query_row("PRAGMA secure_delete", [], |r| r.get(0))?;
            assert_eq!((mode.as_str(), fk, sd), ("wal", 1, 1));
            Ok(())
        })
        .unwrap();
    }
}
