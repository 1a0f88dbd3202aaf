//! The scrape behind `GET /metrics`: the series recorded so far (`crate::metrics`), with what is read
//! now: the database and WAL file sizes, each connected website's time since its last complete
//! import, and the process's resident memory.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::App;
use crate::db;
use crate::error::Result;
use crate::metrics::Scrape;

/// The Prometheus text of one scrape.
pub async fn scrape(app: &App) -> Result<String> {
    let writer = app.db.writer_stats();
    let files = app.db.clone();
    // The file reads block like the query does, so they share its thread.
    let scrape = app
        .db
        .run(move |c| {
            let now = OffsetDateTime::now_utc();
            let since_last_import = db::import::last_successes(c)?
                .into_iter()
                .filter_map(|(website, at)| {
                    let at = OffsetDateTime::parse(&at, &Rfc3339).ok()?;
                    Some((website.to_string(), (now - at).as_seconds_f64().max(0.0)))
                })
                .collect();
            let sizes = files.sizes();
            Ok(Scrape {
                database_bytes: sizes.db_bytes,
                wal_bytes: sizes.wal_bytes,
                since_last_import,
                resident_memory_bytes: resident_memory(),
                writer_queued: writer.queued,
                writer_batches: writer.batches,
                writer_jobs: writer.jobs,
            })
        })
        .await?;
    Ok(app.metrics.render(&scrape))
}

/// `VmRSS` from `/proc/self/status` (Linux); `None` elsewhere.
fn resident_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_memory().is_some_and(|b| b > 0));
        }
    }
}
