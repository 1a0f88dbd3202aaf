//! The revenue import worker (today: Stripe): one tokio task per website while it syncs or reconciles, started on
//! connect, on a schedule and on request; stopped by disconnect. What a sync reads is in `pass`,
//! how a page becomes rows in `mapping`; how each call to
//! Stripe is paced and retried is in `fetch`; the charges a webhook names, read again at once, in `targeted`; the
//! daily comparison with Stripe's ledger is `reconcile`.

mod fetch;
mod mapping;
mod pass;
mod reconcile;
mod stream;
mod subscriptions;
mod targeted;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio_util::sync::CancellationToken;

use crate::config::ImportConfig;
use crate::crypto::StripeKeyBox;
use crate::db::{self, Db, import::Outcome};
use crate::domain::ObjectId;
use crate::metrics::Metrics;
use crate::providers::stripe::StripeClient;

/// Shared by the request handlers (connect, disconnect, sync now) and the schedule.
#[derive(Clone)]
pub struct Importer {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    client: StripeClient,
    stripe_keys: StripeKeyBox,
    config: ImportConfig,
    /// Requests per second per key (keyed by the key's SHA-256), live and test mode apart.
    live_limit: DefaultKeyedRateLimiter<[u8; 32]>,
    test_limit: DefaultKeyedRateLimiter<[u8; 32]>,
    jobs: Mutex<HashMap<ObjectId, Job>>,
    next_job: AtomicU64,
    /// Pages committed and syncs ended in error are counted here.
    metrics: Arc<Metrics>,
    /// The charges webhooks asked to read again, per website.
    rereads: targeted::Queue,
}

struct Job {
    id: u64,
    cancel: CancellationToken,
    /// Asked to sync again while syncing: one more round when this one ends.
    again: Arc<AtomicBool>,
    /// Asked to reconcile: after the sync under way (if any), the task compares with Stripe's ledger.
    reconcile: Arc<AtomicBool>,
}

fn per_second(n: u32) -> Quota {
    Quota::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl Importer {
    pub fn new(
        db: Db,
        client: StripeClient,
        stripe_keys: StripeKeyBox,
        config: ImportConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        let inner = Inner {
            live_limit: RateLimiter::keyed(per_second(config.stripe_live_requests_per_second)),
            test_limit: RateLimiter::keyed(per_second(config.stripe_test_requests_per_second)),
            db,
            client,
            stripe_keys,
            config,
            jobs: Mutex::default(),
            next_job: AtomicU64::new(1),
            metrics,
            rereads: targeted::Queue::default(),
        };
        Self { inner: Arc::new(inner) }
    }

    pub fn auto_import(&self) -> bool {
        self.inner.config.auto_import
    }

    /// Syncs the website now, or once more right after the sync under way.
    pub fn trigger(&self, website: ObjectId) {
        self.ask(website, false);
    }

    /// Compares the website's last `reconcile_days` with Stripe's ledger now, or right after the sync under way.
    pub fn reconcile(&self, website: ObjectId) {
        self.ask(website, true);
    }

    pub fn reconcile_days(&self) -> u32 {
        self.inner.config.reconcile_days
    }

    fn ask(&self, website: ObjectId, reconcile: bool) {
        let mut jobs = self.inner.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(job) = jobs.get(&website) {
            let flag = if reconcile { &job.reconcile } else { &job.again };
            flag.store(true, Ordering::Relaxed);
            return;
        }
        let job = Job {
            id: self.inner.next_job.fetch_add(1, Ordering::Relaxed),
            cancel: CancellationToken::new(),
            again: Arc::new(AtomicBool::new(!reconcile)),
            reconcile: Arc::new(AtomicBool::new(reconcile)),
        };
        let wants = Wants { sync: Arc::clone(&job.again), reconcile: Arc::clone(&job.reconcile) };
        let task = Arc::clone(&self.inner).run(website.clone(), job.id, job.cancel.clone(), wants);
        jobs.insert(website, job);
        tokio::spawn(task);
    }

    /// Stops the website's sync at its next await point: no call to Stripe and no write after it.
    pub fn stop(&self, website: &ObjectId) {
        let job = self.inner.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(website);
        if let Some(job) = job {
            job.cancel.cancel();
        }
    }

    /// A new key: whatever ran with the old one stops, and (when imports are automatic) a sync starts.
    pub fn restart(&self, website: ObjectId) {
        self.stop(&website);
        if self.auto_import() {
            self.trigger(website);
        }
    }

    /// At start: forgets syncs (and reconciliations) a stopped process left `running`, then (when imports are
    /// automatic) syncs every connected website now and every `sync_interval_secs`, and reconciles each once a
    /// day after its sync, until shutdown.
    pub async fn schedule(self, shutdown: impl std::future::Future<Output = ()>) {
        if let Err(e) = self.inner.db.run(|c| db::import::recover(c).and_then(|()| db::reconcile::recover(c))).await {
            tracing::error!(error = %e, "could not reset the sync states left by the last run");
        }
        if !self.auto_import() {
            return;
        }
        let mut tick = tokio::time::interval(Duration::from_secs(self.inner.config.sync_interval_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    match self.inner.db.run(|c| db::import::websites_to_sync(c)).await {
                        Ok(websites) => websites.into_iter().for_each(|w| self.trigger(w)),
                        Err(e) => tracing::error!(error = %e, "could not list the websites to sync"),
                    }
                    self.reconcile_due().await;
                }
                () = &mut shutdown => break,
            }
        }
    }

    /// Asks for the daily reconciliation of every connected website whose last one ended a day ago or more.
    async fn reconcile_due(&self) {
        if self.reconcile_days() == 0 {
            return;
        }
        let before = db::format_time(time::OffsetDateTime::now_utc() - time::Duration::days(1));
        match self.inner.db.run(move |c| db::reconcile::due(c, &before)).await {
            Ok(websites) => websites.into_iter().for_each(|w| self.reconcile(w)),
            Err(e) => tracing::error!(error = %e, "could not list the websites to reconcile"),
        }
    }
}

/// What a website's task was asked to do next.
struct Wants {
    sync: Arc<AtomicBool>,
    reconcile: Arc<AtomicBool>,
}

impl Inner {
    async fn run(self: Arc<Self>, website: ObjectId, job: u64, cancel: CancellationToken, wants: Wants) {
        let forget = |jobs: &mut HashMap<ObjectId, Job>| {
            if jobs.get(&website).is_some_and(|j| j.id == job) {
                jobs.remove(&website);
            }
        };
        loop {
            // Under the lock `ask` takes, so that a request made just now is not lost.
            let (sync, reconcile) = {
                let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let asked = (wants.sync.swap(false, Ordering::Relaxed), wants.reconcile.swap(false, Ordering::Relaxed));
                if cancel.is_cancelled() || asked == (false, false) {
                    forget(&mut jobs);
                    return;
                }
                asked
            };
            if sync {
                let outcome = tokio::select! {
                    () = cancel.cancelled() => Outcome::Stopped,
                    outcome = pass::sync(&self, &website) => outcome,
                };
                match &outcome {
                    Outcome::Complete => tracing::info!(%website, "Stripe sync complete"),
                    Outcome::Refused(m) | Outcome::Failed(m) => {
                        tracing::warn!(%website, error = m, "Stripe sync failed");
                    }
                    Outcome::Stopped => tracing::info!(%website, "Stripe sync stopped"),
                }
                // A key Stripe refused is not tried again on a request queued during this sync (the schedule's,
                // say): only a new key or a sync asked for after the refusal retries it.
                if matches!(outcome, Outcome::Refused(_) | Outcome::Stopped) {
                    forget(&mut self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
                    return;
                }
            }
            if reconcile {
                tokio::select! {
                    () = cancel.cancelled() => {}
                    () = reconcile::run(&self, &website) => {}
                }
            }
        }
    }
}
