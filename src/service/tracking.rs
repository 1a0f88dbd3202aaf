//! A website's tracking settings (cookie or cookieless mode, allowed hostnames, excluded IP ranges and paths):
//! read and changed by the General page; applied to each event by `events::ingest` through `RulesCache`. And
//! the retention of raw events (`events_retention_days`): the server's hourly pass that deletes older `events`
//! rows in small batches through the writer. Visitors and sessions are kept: the reports read those.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use time::OffsetDateTime;

use crate::db::Db;
use crate::db::tracking::{self, StoredTracking};
use crate::domain::tracking::{Exclusions, TrackingSettings};
use crate::domain::{Actor, WebsiteId};
use crate::error::Error;
use crate::service::App;

/// The website's tracking settings as stored.
pub async fn settings(app: &App, website: &WebsiteId) -> Result<StoredTracking, Error> {
    let site = website.id().clone();
    app.db.run(move |c| tracking::get(c, &site)).await
}

/// Replaces the website's tracking settings (already parsed: see `TrackingSettings::parse`).
pub async fn update(app: &App, website: &WebsiteId, settings: TrackingSettings, actor: Actor) -> Result<(), Error> {
    let site = website.id().clone();
    let updated = app.db.run(move |c| tracking::update(c, &site, &settings, &actor)).await;
    app.sites.forget();
    updated
}

/// The compiled exclusions of each stored pair of lists (a glob set is compiled once, not per event). Keyed by
/// the lists' text, so a change of settings is a new key: nothing to invalidate.
pub struct RulesCache(Cache<(String, String), Arc<Exclusions>>);

impl Default for RulesCache {
    fn default() -> Self {
        Self(Cache::builder().max_capacity(1_000).time_to_idle(Duration::from_hours(1)).build())
    }
}

impl RulesCache {
    /// The exclusions of these stored lists; `None` when both are empty (nothing is excluded).
    pub fn exclusions(&self, excluded_ips: &str, excluded_paths: &str) -> Option<Arc<Exclusions>> {
        if excluded_ips.is_empty() && excluded_paths.is_empty() {
            return None;
        }
        let key = (excluded_ips.to_owned(), excluded_paths.to_owned());
        Some(self.0.get_with(key, || {
            // The page stored them validated; a list edited by hand that no longer parses excludes nothing.
            Arc::new(Exclusions::compile(excluded_ips, excluded_paths).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "a website's stored exclusions do not parse; none applied");
                Exclusions::default()
            }))
        }))
    }
}

/// Events deleted per write job: each is one short transaction, so tracking events queued behind it wait
/// milliseconds, not the length of the whole pass.
const RETENTION_BATCH: u32 = 500;
/// Time between two retention passes.
const RETENTION_EVERY: Duration = Duration::from_hours(1);
const DAY_MS: i64 = 86_400_000;

/// Deletes every website's events older than `days` days before `now_ms` (Unix milliseconds), a batch at a time
/// through the writer; answers how many were deleted.
pub async fn delete_old_events(db: &Db, days: u32, now_ms: i64) -> Result<usize, Error> {
    let before = now_ms.saturating_sub(i64::from(days).saturating_mul(DAY_MS));
    let websites = db.run(|c| tracking::website_ids(c)).await?;
    let mut deleted = 0;
    for website in websites {
        loop {
            let site = website.clone();
            let batch = db.write(move |c| tracking::delete_events_before(c, &site, before, RETENTION_BATCH)).await?;
            deleted += batch;
            if batch < RETENTION_BATCH as usize {
                break;
            }
        }
    }
    Ok(deleted)
}

/// The server's retention passes until `shutdown`: one at start-up, then one every hour; each logs how many
/// events it deleted. `days` 0 keeps everything (no pass runs).
pub async fn schedule_retention(db: Db, days: u32, shutdown: impl Future<Output = ()>) {
    if days == 0 {
        return;
    }
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(RETENTION_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = &mut shutdown => return,
        }
        let now_ms = i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        let pass = delete_old_events(&db, days, now_ms);
        tokio::pin!(pass);
        let outcome = tokio::select! {
            outcome = &mut pass => outcome,
            // A batch under way commits or not as a whole; the rest waits for the next start.
            () = &mut shutdown => return,
        };
        match outcome {
            Ok(0) => tracing::debug!(days, "event retention: nothing to delete"),
            Ok(deleted) => tracing::info!(deleted, days, "event retention: deleted raw events older than the limit"),
            Err(e) => tracing::error!(error = %e, "event retention failed; trying again in an hour"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{users, websites};
    use crate::domain::ObjectId;
    use crate::domain::website::NewWebsite;

    fn site(db: &Db, domain: &str) -> ObjectId {
        db.with_conn(|c| {
            let owner = users::create(c, &format!("o@{domain}"), None, None)?;
            let new = NewWebsite { domain: domain.into(), name: None, timezone: "UTC".into() };
            Ok(websites::create(c, &owner, &new, &Actor::cli())?.website_id)
        })
        .unwrap()
    }

    fn add_events(db: &Db, site: &ObjectId, count: i64, at: i64) {
        db.with_conn(|c| {
            for i in 0..count {
                c.execute(
                    "INSERT INTO events (website_id, visitor_id, session_id, type, path, hostname, at)
                     VALUES (?1, 'v', 's', 'pageview', '/', 'example.com', ?2)",
                    rusqlite::params![site, at + i],
                )?;
            }
            c.execute(
                "INSERT OR IGNORE INTO visitors (website_id, visitor_id, first_seen, last_seen, last_session_id,
                     referrer, landing_path, hostname) VALUES (?1, 'v', 0, 0, 's', 'Direct/None', '/', 'example.com')",
                [site],
            )?;
            Ok(())
        })
        .unwrap();
    }

    fn remaining(db: &Db, table: &str) -> i64 {
        db.with_conn(|c| Ok(c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)).unwrap()
    }

    #[tokio::test]
    async fn retention_deletes_older_events_in_batches_and_keeps_visitors() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("r.sqlite3"), 2).unwrap();
        let (first, second) = (site(&db, "a.example.com"), site(&db, "b.example.com"));
        let now = 400 * DAY_MS;
        let old = now - 31 * DAY_MS;
        add_events(&db, &first, i64::from(RETENTION_BATCH) * 2 + 7, old);
        add_events(&db, &first, 3, now - 29 * DAY_MS);
        add_events(&db, &second, 5, old);

        assert_eq!(delete_old_events(&db, 30, now).await.unwrap(), usize::try_from(RETENTION_BATCH).unwrap() * 2 + 12);
        assert_eq!(remaining(&db, "events"), 3, "the last 30 days stay");
        assert_eq!(remaining(&db, "visitors"), 2, "visitors stay: the reports read them");
        assert_eq!(delete_old_events(&db, 30, now).await.unwrap(), 0, "a second pass finds nothing");
    }

    #[test]
    fn empty_lists_compile_to_no_exclusions_and_others_once() {
        let cache = RulesCache::default();
        assert!(cache.exclusions("", "").is_none());
        let first = cache.exclusions("203.0.113.0/24", "/admin/*").unwrap();
        assert!(first.excludes_address("203.0.113.5".parse().unwrap()) && first.excludes_path("/admin/x"));
        assert!(Arc::ptr_eq(&first, &cache.exclusions("203.0.113.0/24", "/admin/*").unwrap()), "compiled once");
        let hand_edited = cache.exclusions("nonsense", "").unwrap();
        assert!(!hand_edited.excludes_address("203.0.113.5".parse().unwrap()), "an unparsable list excludes nothing");
    }
}
