//! The SQLite pool, the connection settings every connection gets, `Db::run`, which keeps database work
//! off the async executor, and `Db::write`, which hands a write to the group-committing writer
//! (`writer.rs`). One file per table family beside these.

pub mod analytics;
pub mod audit;
pub mod backup;
pub mod check;
pub mod credentials;
pub mod disputes;
pub mod import;
pub mod migrate;
pub mod payments;
pub mod reconcile;
pub mod rollups;
pub mod sessions;
pub mod stripe;
pub mod stripe_webhooks;
pub mod subscriptions;
pub mod team;
pub mod tracking;
pub mod users;
pub mod visitors;
pub mod websites;
mod writer;

pub use writer::WriterStats;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};

pub type Pool = r2d2::Pool<SqliteConnectionManager>;

/// Pragmas set on every new connection (WAL itself is set once, in `open`, and stays with the file; the
/// writer's connection then turns `synchronous` up to FULL).
/// WAL lets readers run beside the one writer; `secure_delete` overwrites deleted ciphertext instead
/// of leaving it in free pages; `journal_size_limit` truncates the WAL back to this size after each
/// checkpoint that resets it.
fn configure(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA journal_size_limit = 67108864;",
    )
}

/// The pooled connections (the readers) read the file through a memory map of up to this size: a report that
/// scans a year of sessions then costs no read call per page. It is address space, not memory: the pages are the
/// operating system's file cache, shared and reclaimable (they show in RSS once read, as RssFile). The writer
/// has none (see `writer`).
const READER_MMAP_BYTES: i64 = 1 << 30;

fn configure_reader(conn: &mut Connection) -> rusqlite::Result<()> {
    configure(conn)?;
    conn.pragma_update(None, "mmap_size", READER_MMAP_BYTES)
}

/// How long a statement waits for a lock another connection holds (the writer's, mostly) before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a truncating checkpoint waits for readers of older snapshots. It holds the write lock meanwhile,
/// so every write waits as long: a checkpoint that cannot finish in this time gives up and is tried again
/// later (what it could copy is copied either way), instead of stalling the writes behind a stream of readers.
const CHECKPOINT_WAIT: Duration = Duration::from_millis(25);

/// Checkpoints the whole WAL into the database and truncates it, waiting at most `CHECKPOINT_WAIT` for
/// readers; answers whether it got to the end.
fn checkpoint(conn: &Connection) -> rusqlite::Result<bool> {
    conn.busy_timeout(CHECKPOINT_WAIT)?;
    let busy = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0));
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(busy? == 0)
}

/// Past this size the WAL is checkpointed from the background (`Db::keep_wal_small`): SQLite's own
/// automatic checkpoints are passive, and never reset a WAL that readers keep in use.
pub const WAL_CHECKPOINT_BYTES: u64 = 16 << 20;

/// The database's files on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageSizes {
    pub db_bytes: u64,
    pub wal_bytes: u64,
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
    /// The database file, for work that needs a connection of its own (a backup) and its sizes.
    path: Arc<Path>,
    /// The one connection the durable writes go through, group-committed (`write`).
    writer: writer::Writer,
}

impl Db {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path, pool_size: u32) -> Result<Self> {
        // Switching to WAL and migrating happen on one connection, before the pool opens its
        // connections in parallel (a journal-mode switch would lock those out).
        create_private(path)?;
        let mut first = Connection::open(path)?;
        configure(&mut first)?;
        first.pragma_update(None, "journal_mode", "WAL")?;
        // One cap for all pooled connections' page caches (SQLite's default is 2 MB each): memory
        // stays flat however large the database grows.
        first.pragma_update(None, "soft_heap_limit", SQLITE_HEAP_LIMIT)?;
        migrate::run(&mut first)?;
        drop(first);

        let manager = SqliteConnectionManager::file(path).with_init(configure_reader);
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
        let writer = writer::Writer::start(path)?;
        Ok(Self { pool, threads: Arc::new(threads), path: Arc::from(path), writer })
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

    /// The sizes of the database file and its WAL (0 for a file that is not there).
    pub fn sizes(&self) -> StorageSizes {
        StorageSizes { db_bytes: file_len(&self.path), wal_bytes: file_len(&wal_path(&self.path)) }
    }

    /// Checkpoints the WAL into the database and truncates it, once it is past `threshold` bytes (the
    /// writer does the same between its batches; this catches a WAL left large when writes stopped). The
    /// wait for readers is bounded (`CHECKPOINT_WAIT`); answers whether it ran to the end.
    pub async fn keep_wal_small(&self, threshold: u64) -> Result<bool> {
        if self.sizes().wal_bytes <= threshold {
            return Ok(false);
        }
        self.run(|c| Ok(checkpoint(c)?)).await
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

    /// Runs `f` on the writer's connection, inside a transaction shared with the other writes queued
    /// meanwhile, and answers once that transaction is committed and synced to disk: an answered write
    /// survives a crash or a power loss. A failing `f` is rolled back alone. `f` must not begin or end a
    /// transaction of its own, and may run more than once (when another job of its batch fails): each run
    /// must do the same.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T> + Send + 'static,
    {
        self.writer.write(f).await
    }

    /// `write`, answered once committed without waiting for the WAL's fsync: survives a crash at once, a power
    /// loss after the next `sync_wal` (tracking events; see `writer`).
    pub async fn write_unsynced<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T> + Send + 'static,
    {
        self.writer.write_unsynced(f).await
    }

    /// Syncs what `write_unsynced` committed, if anything is waiting (the server does every 2 s).
    pub async fn sync_wal(&self) -> Result<()> {
        self.writer.sync().await
    }

    /// The writer's queue and what it has committed so far (for the metrics).
    pub fn writer_stats(&self) -> writer::WriterStats {
        self.writer.stats()
    }
}

pub use crate::domain::timestamp::{format_time, now};

/// SQLite's write-ahead log beside the database: its name with `-wal` appended.
fn wal_path(database: &Path) -> std::path::PathBuf {
    sibling(database, "-wal")
}

/// The database's name with `suffix` appended (`-wal`, `-shm`).
fn sibling(database: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// A file's size; 0 when it does not exist (the WAL after a truncating checkpoint of a closed database).
fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Creates the database file readable by its owner only (it holds sealed secrets, customer emails and the
/// audit log); SQLite gives its `-wal` and `-shm` files the same permissions. An existing file, and its `-wal`
/// and `-shm`, that others could read (copied in, restored with a loose umask) are tightened, with a warning.
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for file in [path.to_owned(), sibling(path, "-wal"), sibling(path, "-shm")] {
                match crate::config::make_private(&file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Error::internal(format!("cannot make {} private: {e}", file.display())));
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        Err(e) => Err(Error::internal(format!("cannot create {}: {e}", path.display()))),
    }
}

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
    fn the_wal_is_the_database_path_with_wal_appended() {
        assert_eq!(wal_path(Path::new("data/revlink.sqlite3")), Path::new("data/revlink.sqlite3-wal"));
    }

    #[test]
    fn the_database_and_its_wal_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let db = Db::open(&path, 2).unwrap();
        db.with_conn(|c| Ok(c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")?)).unwrap();
        for file in ["t.sqlite3", "t.sqlite3-wal", "t.sqlite3-shm"] {
            let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file}");
        }
        drop(db);
        // Files restored or copied in with a loose mode are tightened when the database opens.
        for file in ["t.sqlite3", "t.sqlite3-wal", "t.sqlite3-shm"] {
            let path = dir.path().join(file);
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
        let _db = Db::open(&path, 2).unwrap();
        for file in ["t.sqlite3", "t.sqlite3-wal", "t.sqlite3-shm"] {
            let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file} after reopening");
        }
    }

    #[tokio::test]
    async fn a_wal_that_readers_kept_growing_is_checkpointed_and_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3"), 4).unwrap();
        db.with_conn(|c| Ok(c.execute_batch("CREATE TABLE t (x BLOB)")?)).unwrap();
        // A reader holds an old snapshot while 8 MB are written: no automatic checkpoint can reset the WAL.
        let reader = rusqlite::Connection::open(dir.path().join("t.sqlite3")).unwrap();
        reader.execute_batch("BEGIN; SELECT COUNT(*) FROM t;").unwrap();
        db.with_conn(|c| {
            for _ in 0..2000 {
                c.execute("INSERT INTO t VALUES (zeroblob(4096))", [])?;
            }
            Ok(())
        })
        .unwrap();
        let grown = db.sizes().wal_bytes;
        assert!(grown > 8 << 20, "{grown}");
        assert!(!db.keep_wal_small(grown).await.unwrap(), "under the threshold: nothing to do");
        reader.execute_batch("COMMIT").unwrap();
        assert!(db.keep_wal_small(1 << 20).await.unwrap());
        assert_eq!(db.sizes().wal_bytes, 0, "truncated");
        let rows: i64 = db.with_conn(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?)).unwrap();
        assert_eq!(rows, 2000);
        assert!(db.sizes().db_bytes > 8 << 20);
    }

    #[test]
    fn open_sets_wal_foreign_keys_and_secure_delete() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3"), 2).unwrap();
        db.with_conn(|c| {
            let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            let fk: i64 = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
            let sd: i64 = c.query_row("PRAGMA secure_delete", [], |r| r.get(0))?;
            let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
            assert_eq!((mode.as_str(), fk, sd, sync), ("wal", 1, 1, 1), "readers: synchronous NORMAL");
            Ok(())
        })
        .unwrap();
    }
}
