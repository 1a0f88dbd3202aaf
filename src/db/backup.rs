//! Online backups: a consistent copy of the live database through SQLite's backup API, written to a
//! temporary file beside the destination, verified, then moved into place. The server keeps writing.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::db::check;

/// Pages copied per step: 400 KiB at SQLite's default 4 KiB pages.
const PAGES_PER_STEP: i32 = 100;
/// The pause after each step, so a large copy leaves the disk and the CPU to the server's own work.
const PAUSE: Duration = Duration::from_millis(10);
/// How long the copy may find the source busy before it gives up.
const BUSY_LIMIT: Duration = Duration::from_mins(1);

/// A backup in place.
#[derive(Debug, Clone)]
pub struct Copied {
    /// Where it is (absolute).
    pub path: PathBuf,
    pub bytes: u64,
    pub pages: u32,
}

/// What to do when the destination exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Refuse,
    Replace,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    #[error("{} is the database itself", .0.display())]
    IsTheDatabase(PathBuf),
    #[error("{what} {}: {source}", path.display())]
    Io { what: &'static str, path: PathBuf, source: io::Error },
    #[error("the backup failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database stayed busy for {} seconds; try again", BUSY_LIMIT.as_secs())]
    Busy,
    #[error("the copy failed its integrity check: {}", .0.join("; "))]
    Integrity(Vec<String>),
    #[error("the backup was stopped")]
    Stopped,
    #[error("the backup stopped unexpectedly: {0}")]
    Panicked(String),
}

fn io_error(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BackupError {
    let path = path.to_owned();
    move |source| BackupError::Io { what, path, source }
}

/// The names a copy of `file_name` is staged under begin with this (`.name.tmp-<pid>-<random>`).
pub fn staging_prefix(file_name: &str) -> String {
    format!(".{file_name}.tmp-")
}

/// Copies the database at `source` to `dest` while others keep writing to it. The copy is staged beside
/// `dest` (mode 0600: it holds sealed secrets), must pass `PRAGMA integrity_check`, is fsynced and only
/// then renamed into place (and the directory fsynced): `dest` is the whole copy or untouched. Setting
/// `stop` ends the copy at its next step and removes the staged file.
pub fn copy(source: &Path, dest: &Path, existing: Existing, stop: &AtomicBool) -> Result<Copied, BackupError> {
    let file_name = dest.file_name().ok_or_else(|| BackupError::Io {
        what: "the backup needs a file name:",
        path: dest.to_owned(),
        source: io::ErrorKind::InvalidInput.into(),
    })?;
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    if dest.exists() {
        if existing == Existing::Refuse {
            return Err(BackupError::Exists(dest.to_owned()));
        }
        if same_file(source, dest) {
            return Err(BackupError::IsTheDatabase(dest.to_owned()));
        }
    }
    let staged = Staged::create(&dir, &file_name.to_string_lossy())?;
    let pages = copy_pages(source, &staged.path, stop)?;
    File::open(&staged.path).and_then(|f| f.sync_all()).map_err(io_error("cannot sync", &staged.path))?;
    verify(&staged.path)?;
    staged.place(dest, existing)?;
    File::open(&dir).and_then(|d| d.sync_all()).map_err(io_error("cannot sync the directory", &dir))?;
    let bytes = fs::metadata(dest).map_err(io_error("cannot read", dest))?.len();
    let path = fs::canonicalize(dest).unwrap_or_else(|_| dest.to_owned());
    Ok(Copied { path, bytes, pages })
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
}

/// Copies every page in steps, all from one snapshot of the source.
fn copy_pages(source: &Path, staged: &Path, stop: &AtomicBool) -> Result<u32, BackupError> {
    // Read-write without create: a wrong path is an error, not a new empty database to copy.
    let src = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    src.busy_timeout(Duration::from_secs(5))?;
    // One read transaction across every step: each step reads the same snapshot while WAL lets the
    // server's writers commit beside it. Without it SQLite would notice each commit at the next step
    // and start the copy over from page 1, which a steady stream of writes can repeat indefinitely.
    let snapshot = src.unchecked_transaction()?;
    snapshot.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
    let mut dst = Connection::open(staged)?;
    let pages = {
        let backup = Backup::new(&snapshot, &mut dst)?;
        let mut busy_since: Option<Instant> = None;
        loop {
            if stop.load(Ordering::Relaxed) {
                return Err(BackupError::Stopped);
            }
            match backup.step(PAGES_PER_STEP)? {
                StepResult::Done => break backup.progress().pagecount,
                StepResult::More => busy_since = None,
                _ => {
                    if busy_since.get_or_insert_with(Instant::now).elapsed() > BUSY_LIMIT {
                        return Err(BackupError::Busy);
                    }
                }
            }
            thread::sleep(PAUSE);
        }
    };
    drop(snapshot);
    // The pages carry the source's WAL flag; a rollback-journal file is whole on its own (no -wal beside
    // it), so it can be copied, verified read-only and restored as a single file.
    let _mode: String = dst.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    dst.close().map_err(|(_, e)| e)?;
    Ok(u32::try_from(pages).unwrap_or_default())
}

/// Opens the staged copy read-only on a fresh connection and runs SQLite's full integrity check.
fn verify(staged: &Path) -> Result<(), BackupError> {
    let conn = Connection::open_with_flags(staged, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    let problems = check::integrity(&conn);
    if check::is_sound(&problems) { Ok(()) } else { Err(BackupError::Integrity(problems)) }
}

/// The temporary file a copy is written to; removed (with any journal beside it) unless placed.
struct Staged {
    path: PathBuf,
}

impl Staged {
    fn create(dir: &Path, file_name: &str) -> Result<Self, BackupError> {
        let name = format!("{}{}-{:08x}", staging_prefix(file_name), std::process::id(), rand::random::<u32>());
        let path = dir.join(name);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_error("cannot create the backup file", &path))?;
        Ok(Self { path })
    }

    /// Moves the copy to `dest`: a rename that replaces, or a hard link that refuses an existing file.
    fn place(self, dest: &Path, existing: Existing) -> Result<(), BackupError> {
        let moved = match existing {
            Existing::Replace => fs::rename(&self.path, dest),
            Existing::Refuse => match fs::hard_link(&self.path, dest) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(BackupError::Exists(dest.to_owned())),
                // A file system without hard links: rename, having found nothing there a moment ago.
                Err(_) if !dest.exists() => fs::rename(&self.path, dest),
                linked => linked,
            },
        };
        moved.map_err(io_error("cannot move the backup to", dest))
        // Dropping `self` removes the staged name a hard link leaves behind.
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut name = self.path.clone().into_os_string();
            name.push(suffix);
            let _ = fs::remove_file(PathBuf::from(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    fn database(path: &Path, rows: i64) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);")
            .unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO t (v) SELECT printf('%0500d', i) FROM n",
            [rows],
        )
        .unwrap();
    }

    fn count(path: &Path) -> i64 {
        Connection::open(path).unwrap().query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    }

    #[test]
    fn a_copy_under_steady_writes_is_one_consistent_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let (source, dest) = (dir.path().join("live.sqlite3"), dir.path().join("copy.sqlite3"));
        database(&source, 5000);
        let done = Arc::new(AtomicBool::new(false));
        let writer = {
            let (source, done) = (source.clone(), Arc::clone(&done));
            thread::spawn(move || {
                let conn = Connection::open(&source).unwrap();
                conn.busy_timeout(Duration::from_secs(5)).unwrap();
                let mut written = 0;
                while !done.load(Ordering::Relaxed) {
                    conn.execute("INSERT INTO t (v) VALUES (printf('%0500d', 1))", []).unwrap();
                    written += 1;
                }
                written
            })
        };
        let copied = copy(&source, &dest, Existing::Refuse, &AtomicBool::new(false)).unwrap();
        done.store(true, Ordering::Relaxed);
        let written = writer.join().unwrap();
        assert!(written > 0, "the writer was not held up");
        let rows = count(&dest);
        assert!(rows >= 5000 && rows <= 5000 + written, "{rows} rows of 5000 + {written}");
        assert!(copied.pages > 600, "{copied:?}");
        assert_eq!(copied.bytes, fs::metadata(&dest).unwrap().len());
        assert_eq!(fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o600);
        let header = fs::read(&dest).unwrap();
        assert_eq!((header[18], header[19]), (1, 1), "a rollback-journal file, whole without a -wal");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn an_existing_file_is_kept_unless_replacing() {
        let dir = tempfile::tempdir().unwrap();
        let (source, dest) = (dir.path().join("live.sqlite3"), dir.path().join("copy.sqlite3"));
        database(&source, 10);
        fs::write(&dest, "precious").unwrap();
        let go = AtomicBool::new(false);
        assert!(matches!(copy(&source, &dest, Existing::Refuse, &go), Err(BackupError::Exists(_))));
        assert_eq!(fs::read_to_string(&dest).unwrap(), "precious");
        copy(&source, &dest, Existing::Replace, &go).unwrap();
        assert_eq!(count(&dest), 10);
        assert!(matches!(copy(&source, &source, Existing::Replace, &go), Err(BackupError::IsTheDatabase(_))));
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_or_stopped_copy_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (source, dest) = (dir.path().join("live.sqlite3"), dir.path().join("copy.sqlite3"));
        database(&source, 10);
        let stopped = copy(&source, &dest, Existing::Refuse, &AtomicBool::new(true)).unwrap_err();
        assert!(matches!(stopped, BackupError::Stopped), "{stopped}");
        let missing = copy(&dir.path().join("nope.sqlite3"), &dest, Existing::Refuse, &AtomicBool::new(false));
        assert!(matches!(missing, Err(BackupError::Sqlite(_))));
        let no_dir = copy(&source, &dir.path().join("no/such/dir.sqlite3"), Existing::Refuse, &AtomicBool::new(false));
        assert!(no_dir.unwrap_err().to_string().contains("cannot create the backup file"));
        assert!(!dest.exists());
        assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
    }
}
