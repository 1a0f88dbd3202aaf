//! Backups: one copy to a named file (`revlink backup`), and the server's scheduled copies into
//! `backup_dir`, of which the newest `backup_keep` stay. The copy itself is `db::backup::copy`.

use std::fs;
use std::future::Future;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::config::BackupConfig;
use crate::db::Db;
use crate::db::backup as copier;
pub use crate::db::backup::{BackupError, Copied, Existing};

/// The name of a scheduled backup: the UTC time it was started.
const NAME_FORMAT: &str = "revlink-%Y%m%dT%H%M%SZ.sqlite3";
/// After a failed scheduled backup, the next attempt.
const RETRY_AFTER: Duration = Duration::from_hours(1);

/// Copies the database to `dest` off the async executor; setting `stop` abandons the copy.
pub async fn to_file(db: &Db, dest: PathBuf, existing: Existing, stop: Arc<AtomicBool>) -> Result<Copied, BackupError> {
    let source = db.path().to_owned();
    tokio::task::spawn_blocking(move || copier::copy(&source, &dest, existing, &stop))
        .await
        .map_err(|e| BackupError::Panicked(e.to_string()))?
}

/// The server's scheduled backups, until `shutdown`: the first as soon as `backup_dir` holds none from
/// the last `backup_interval_hours`, then one every interval, each followed by pruning. A failure is
/// logged and tried again an hour later. At shutdown a copy under way stops at its next step.
pub async fn schedule(db: Db, config: BackupConfig, shutdown: impl Future<Output = ()>) {
    let Some(dir) = config.backup_dir else { return };
    let interval = Duration::from_secs(config.backup_interval_hours.saturating_mul(3600));
    let keep = usize::try_from(config.backup_keep).unwrap_or(usize::MAX);
    tokio::pin!(shutdown);
    let mut wait = until_due(newest(&dir), interval, Utc::now());
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut shutdown => return,
        }
        let stop = Arc::new(AtomicBool::new(false));
        let job = tokio::task::spawn_blocking({
            let (source, dir, stop) = (db.path().to_owned(), dir.clone(), Arc::clone(&stop));
            move || write_scheduled(&source, &dir, keep, Utc::now(), &stop)
        });
        tokio::pin!(job);
        let outcome = tokio::select! {
            joined = &mut job => joined.unwrap_or_else(|e| Err(BackupError::Panicked(e.to_string()))),
            () = &mut shutdown => {
                stop.store(true, Ordering::Relaxed);
                let _ = job.await;
                return;
            }
        };
        wait = match outcome {
            Ok((copied, removed)) => {
                tracing::info!(path = %copied.path.display(), bytes = copied.bytes, removed = removed.len(), "backup written");
                interval
            }
            Err(e) => {
                tracing::error!(error = %e, dir = %dir.display(), "scheduled backup failed; trying again in an hour");
                RETRY_AFTER.min(interval)
            }
        };
    }
}

/// One scheduled backup into `dir` (created if missing), then the oldest beyond `keep` removed: what
/// was written and what was removed.
fn write_scheduled(
    source: &Path,
    dir: &Path,
    keep: usize,
    now: DateTime<Utc>,
    stop: &AtomicBool,
) -> Result<(Copied, Vec<PathBuf>), BackupError> {
    // Readable by its owner only, like the data directory: the copies hold what the database holds.
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|source| BackupError::Io {
        what: "cannot create the backup directory",
        path: dir.to_owned(),
        source,
    })?;
    let dest = dir.join(now.format(NAME_FORMAT).to_string());
    let copied = copier::copy(source, &dest, Existing::Refuse, stop)?;
    Ok((copied, prune(dir, keep)))
}

/// The time in a scheduled backup's name; `None` for any other name.
fn backup_time(name: &str) -> Option<DateTime<Utc>> {
    let at = NaiveDateTime::parse_from_str(name, NAME_FORMAT).ok()?.and_utc();
    (at.format(NAME_FORMAT).to_string() == name).then_some(at)
}

/// A staged copy of a scheduled backup left behind by a run that was killed.
fn is_leftover(name: &str) -> bool {
    let Some((file, _)) = name.strip_prefix('.').and_then(|n| n.split_once(".tmp-")) else { return false };
    backup_time(file).is_some() && name.starts_with(&copier::staging_prefix(file))
}

/// The newest scheduled backup's time in `dir`.
fn newest(dir: &Path) -> Option<DateTime<Utc>> {
    let entries = fs::read_dir(dir).ok()?;
    entries.flatten().filter_map(|e| backup_time(&e.file_name().to_string_lossy())).max()
}

/// How long until the next backup is due: now without one, else `interval` after the newest.
fn until_due(newest: Option<DateTime<Utc>>, interval: Duration, now: DateTime<Utc>) -> Duration {
    let Some(at) = newest else { return Duration::ZERO };
    // A newest backup dated in the future (the clock went back) counts as just written.
    let elapsed = (now - at).to_std().unwrap_or(Duration::ZERO);
    interval.saturating_sub(elapsed)
}

/// Deletes the oldest scheduled backups beyond `keep`, and staged copies of killed runs. Only names
/// the schedule writes are touched; every other file in `dir` stays.
fn prune(dir: &Path, keep: usize) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let (mut backups, mut doomed) = (Vec::new(), Vec::new());
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if backup_time(&name).is_some() {
            backups.push(name);
        } else if is_leftover(&name) {
            doomed.push(name);
        }
    }
    // The names sort by time.
    backups.sort_unstable();
    let excess = backups.len().saturating_sub(keep);
    doomed.extend(backups.drain(..excess));
    let mut removed = Vec::new();
    for name in doomed {
        let path = dir.join(name);
        match fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove an old backup"),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap()
    }

    #[test]
    fn only_its_own_names_count() {
        assert_eq!(backup_time("revlink-20260521T080000Z.sqlite3"), Some(at(2026, 5, 21, 8)));
        for other in [
            "revlink-20260521T080000Z.sqlite3.bak",
            "revlink-2026521T080000Z.sqlite3",
            "revlink-20260521T080000.sqlite3",
            "revlink-20261341T080000Z.sqlite3",
            "revlink.sqlite3",
            "mine-20260521T080000Z.sqlite3",
        ] {
            assert_eq!(backup_time(other), None, "{other}");
        }
        assert!(is_leftover(".revlink-20260521T080000Z.sqlite3.tmp-12-0badcafe"));
        assert!(is_leftover(".revlink-20260521T080000Z.sqlite3.tmp-12-0badcafe-journal"));
        assert!(!is_leftover(".mine.sqlite3.tmp-12-0badcafe"));
    }

    #[test]
    fn the_next_backup_is_due_an_interval_after_the_newest() {
        let day = Duration::from_hours(24);
        assert_eq!(until_due(None, day, at(2026, 5, 21, 8)), Duration::ZERO);
        assert_eq!(until_due(Some(at(2026, 5, 21, 2)), day, at(2026, 5, 21, 8)), Duration::from_hours(18));
        assert_eq!(until_due(Some(at(2026, 5, 19, 8)), day, at(2026, 5, 21, 8)), Duration::ZERO);
        assert_eq!(until_due(Some(at(2026, 5, 22, 8)), day, at(2026, 5, 21, 8)), day, "a clock gone back");
    }

    #[test]
    fn a_backup_directory_it_creates_is_its_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("revlink.sqlite3"), 1).unwrap();
        let backups = dir.path().join("new/backups");
        let (copied, _) = write_scheduled(db.path(), &backups, 2, at(2026, 5, 21, 8), &AtomicBool::new(false)).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&backups), mode(&copied.path)), (0o700, 0o600));
    }

    #[test]
    fn a_scheduled_backup_then_the_oldest_beyond_keep_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("revlink.sqlite3"), 1).unwrap();
        let backups = dir.path().join("backups");
        fs::create_dir(&backups).unwrap();
        let old = [
            "revlink-20260101T000000Z.sqlite3",
            "revlink-20260102T000000Z.sqlite3",
            "revlink-20260103T000000Z.sqlite3",
        ];
        let others = ["notes.txt", "revlink-20260101T000000Z.sqlite3.keep", ".mine.sqlite3.tmp-1-2"];
        for name in old.iter().chain(&others) {
            fs::write(backups.join(name), "x").unwrap();
        }
        fs::write(backups.join(".revlink-20260104T000000Z.sqlite3.tmp-1-00000000"), "killed").unwrap();

        let now = at(2026, 5, 21, 8);
        let (copied, removed) = write_scheduled(db.path(), &backups, 2, now, &AtomicBool::new(false)).unwrap();
        assert!(copied.path.ends_with("revlink-20260521T080000Z.sqlite3"), "{copied:?}");
        assert_eq!(removed.len(), 3, "two old backups and a leftover: {removed:?}");
        let mut left: Vec<String> =
            fs::read_dir(&backups).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        let mut expected: Vec<&str> = others.to_vec();
        expected.extend(["revlink-20260103T000000Z.sqlite3", "revlink-20260521T080000Z.sqlite3"]);
        expected.sort_unstable();
        assert_eq!(left, expected);
        assert_eq!(newest(&backups), Some(now));
        let again = write_scheduled(db.path(), &backups, 2, now, &AtomicBool::new(false)).unwrap_err();
        assert!(matches!(again, BackupError::Exists(_)), "the same second is not written twice: {again}");
    }
}
