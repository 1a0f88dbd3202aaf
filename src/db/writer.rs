//! Group commit: one thread owns the write connection, and the writes whose answer promises durability (the
//! Payments API's, and the import's: its pages with their cursor and its bookkeeping) are sent to it as jobs.
//! It takes whatever has queued (up to `MAX_BATCH` jobs and `MAX_BATCH_WORK` of work), runs the jobs in one
//! `IMMEDIATE` transaction, commits with `synchronous = FULL` (one fsync for the batch), and only then answers
//! each job. If the commit fails, every job of the batch gets the error: nothing of it was written. So an
//! answered write survives a crash or a power loss, and writes that arrive together cost one commit between
//! them.
//!
//! A job that fails is rolled back alone and gets its own error. Jobs rarely fail (the input was checked before
//! and conflicts are part of the SQL), so a batch first runs without savepoints, which would journal every page
//! each job touches; when a job fails, that transaction is rolled back, the job answered with its error, and
//! the rest of the batch run again with a savepoint per job. Jobs are `Fn` for that: running one again must do
//! the same.
//!
//! Tracking events are written here too, but unsynced (`write_unsynced`): a batch of only such jobs commits with
//! `synchronous = NORMAL`, into the WAL without an fsync, so it survives a crash of revlink (kill -9) as soon as
//! it is answered, and a power loss once the WAL is next synced: by the next synced batch, a checkpoint, or
//! `sync` (the server calls it every 2 s while unsynced commits are waiting). A batch with any synced job syncs
//! them all. Visits are worth losing two seconds of on a power cut; payments are not.
//!
//! Other writes (settings, tokens, keys, sessions, team, Stripe connections) stay on the pool (`Db::run`):
//! they are rare, and the busy timeout lets them wait for the writer's lock. A job runs inside the batch's
//! transaction: it must not begin, commit or roll back one itself, and should do database work only (the
//! batch waits for it).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// Most jobs one transaction takes.
const MAX_BATCH: usize = 512;
/// A batch takes no further job once it has worked this long (the jobs left start the next batch), so
/// that the first job's answer waits for at most this much of other jobs' work.
const MAX_BATCH_WORK: Duration = Duration::from_millis(20);
/// Jobs waiting for the writer; a sender beyond these waits for room (backpressure, not memory).
const QUEUE: usize = 1024;

/// The sending side of the writer's queue; cheap to clone. The thread ends when every clone is gone,
/// after writing what was queued.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    counts: Arc<Counts>,
}

/// What the writer has done: the metrics show how writes were grouped, and so do the tests.
#[derive(Debug, Default)]
struct Counts {
    /// Batches written (a batch run again after a failing job counts once).
    batches: AtomicU64,
    /// Jobs answered from them.
    jobs: AtomicU64,
    /// Whether an unsynced batch was committed since the last synced one.
    unsynced: AtomicBool,
}

/// The writer's figures at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Jobs waiting for their batch.
    pub queued: u64,
    /// Transactions run so far.
    pub batches: u64,
    /// Jobs answered so far (over `batches`: the mean batch size).
    pub jobs: u64,
}

impl Writer {
    /// Opens the write connection on `path` (an existing, migrated database) and starts its thread.
    pub(super) fn start(path: &Path) -> Result<Self> {
        Self::start_with(path, MAX_BATCH_WORK)
    }

    /// `start`, with the work one batch may take before it leaves the remaining jobs to the next.
    fn start_with(path: &Path, max_work: Duration) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        super::configure(&mut conn)?;
        // This connection's commits are the ones callers are told are written: FULL syncs the WAL at each
        // commit, so they survive a power loss too (NORMAL, the readers', survives a crash of revlink only).
        conn.pragma_update(None, "synchronous", "FULL")?;
        // No memory map here (the readers have one): the writer touches pages all over a growing file, and mapped
        // they would all stay in revlink's RSS; it reads them into its small page cache instead.
        conn.set_prepared_statement_cache_capacity(64);
        let (jobs, queue) = mpsc::channel(QUEUE);
        let counts = Arc::new(Counts::default());
        let counted = Arc::clone(&counts);
        let wal = super::wal_path(path);
        std::thread::Builder::new()
            .name("revlink-writer".into())
            .spawn(move || serve(conn, queue, max_work, &counted, &wal))
            .map_err(Error::internal)?;
        Ok(Self { jobs, counts })
    }

    pub fn stats(&self) -> WriterStats {
        let queued = self.jobs.max_capacity() - self.jobs.capacity();
        WriterStats {
            queued: u64::try_from(queued).unwrap_or(u64::MAX),
            batches: self.counts.batches.load(Ordering::Relaxed),
            jobs: self.counts.jobs.load(Ordering::Relaxed),
        }
    }

    /// Runs `f` in the writer's next transaction and answers once that transaction is committed: `f`'s
    /// result, or the error that kept it from being written.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T> + Send + 'static,
    {
        self.send(f, true).await
    }

    /// `write`, answered once committed to the WAL without waiting for it to be synced to disk (see the module
    /// documentation): for writes that may be lost to a power cut but not to a crash.
    pub async fn write_unsynced<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T> + Send + 'static,
    {
        self.send(f, false).await
    }

    /// Syncs the WAL (an empty synced batch) if an unsynced batch was committed since the last synced one.
    pub async fn sync(&self) -> Result<()> {
        if self.counts.unsynced.load(Ordering::Relaxed) { self.write(|_| Ok(())).await } else { Ok(()) }
    }

    async fn send<T, F>(&self, f: F, synced: bool) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending { work: f, synced, result: None, reply });
        self.jobs.send(job).await.map_err(|_| Error::internal("the database writer has stopped"))?;
        answer.await.map_err(|_| Error::internal("the database writer stopped before answering"))?
    }
}

/// One queued write, its result type erased.
trait Job: Send {
    /// Runs the work on the batch's transaction (again, if the batch is run again); answers whether it
    /// succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// The storage problem (full, read-only) the work failed with, if that was why.
    fn storage_failure(&self) -> Option<&'static str>;
    /// Whether the caller is answered only once the write is synced to disk.
    fn synced(&self) -> bool;
    /// Answers the caller once the batch has ended: its result, or `lost` when the batch was not written.
    fn answer(self: Box<Self>, lost: Option<&Lost>);
}

/// Why a batch was not written: a full or read-only disk (answered as such: 503, what to do), or another
/// failure (an internal error).
#[derive(Debug)]
enum Lost {
    Storage(&'static str),
    Other(String),
}

impl From<rusqlite::Error> for Lost {
    fn from(e: rusqlite::Error) -> Self {
        match Error::from(e) {
            Error::Storage(message) => Self::Storage(message),
            other => Self::Other(other.to_string()),
        }
    }
}

struct Pending<T, F> {
    work: F,
    synced: bool,
    /// The last run's result (`None` before a run ends, so a run that panicked leaves none).
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T: Send, F: Fn(&Connection) -> Result<T> + Send> Job for Pending<T, F> {
    fn run(&mut self, conn: &Connection) -> bool {
        self.result = None;
        let result = (self.work)(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn storage_failure(&self) -> Option<&'static str> {
        match &self.result {
            Some(Err(Error::Storage(message))) => Some(message),
            _ => None,
        }
    }

    fn synced(&self) -> bool {
        self.synced
    }

    fn answer(self: Box<Self>, lost: Option<&Lost>) {
        let answer = match (self.result, lost) {
            (Some(Ok(value)), None) => Ok(value),
            // The job's own failure (its writes were rolled back either way).
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(_)) | None, Some(Lost::Storage(message))) => Err(Error::Storage(message)),
            (Some(Ok(_)) | None, Some(Lost::Other(why))) => {
                Err(Error::internal(format!("the write was not committed: {why}")))
            }
            (None, None) => Err(Error::internal("a database write panicked")),
        };
        // The receiver is gone only when the caller stopped waiting; what was written stays written.
        let _ = self.reply.send(answer);
    }
}

/// The writer thread: blocks for a job, takes whatever else has queued, writes the batch; until every
/// sender is gone and the queue is empty.
fn serve(
    mut conn: Connection,
    mut queue: mpsc::Receiver<Box<dyn Job>>,
    max_work: Duration,
    counts: &Counts,
    wal: &Path,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    let mut syncing = true;
    loop {
        if batch.is_empty() {
            match queue.blocking_recv() {
                Some(job) => batch.push(job),
                None => return,
            }
        }
        // No waiting for more: the jobs that arrive while this batch commits form the next one.
        while batch.len() < MAX_BATCH
            && let Ok(job) = queue.try_recv()
        {
            batch.push(job);
        }
        // FULL syncs the WAL at the commit; NORMAL leaves it to the next synced commit or checkpoint.
        let sync = batch.iter().any(|job| job.synced());
        if sync != syncing {
            match conn.pragma_update(None, "synchronous", if sync { "FULL" } else { "NORMAL" }) {
                Ok(()) => syncing = sync,
                Err(e) => tracing::error!(error = %e, "the writer could not change synchronous"),
            }
        }
        write_batch(&mut conn, &mut batch, max_work, counts, syncing);
        keep_wal_small(&conn, wal);
    }
}

/// Writes jobs of `batch` in one transaction and answers them: first without savepoints; if a job fails, it
/// is answered alone and the rest run again, each in its savepoint. The jobs not run (out of time, or the
/// transaction was lost before their turn) stay in `batch` for the next one.
/// `synced`: whether the commit syncs the WAL (noted before any answer, for `Writer::sync`).
fn write_batch(
    conn: &mut Connection,
    batch: &mut Vec<Box<dyn Job>>,
    max_work: Duration,
    counts: &Counts,
    synced: bool,
) {
    // Counted before any answer, so that whoever has an answer sees its batch counted.
    counts.batches.fetch_add(1, Ordering::Relaxed);
    let (ran, written) = match run_batch(conn, batch, max_work, Isolation::Shared) {
        Attempt::Ended { ran, written } => (ran, written),
        Attempt::JobFailed(index, why) => {
            // Nothing of that transaction was kept: the job's error is its answer, the others go again.
            counts.jobs.fetch_add(1, Ordering::Relaxed);
            batch.remove(index).answer(why.as_ref());
            match run_batch(conn, batch, max_work, Isolation::Savepoints) {
                Attempt::Ended { ran, written } => (ran, written),
                Attempt::JobFailed(..) => unreachable!("with savepoints a failing job does not end the attempt"),
            }
        }
    };
    counts.jobs.fetch_add(u64::try_from(ran).unwrap_or(u64::MAX), Ordering::Relaxed);
    if written.is_ok() {
        counts.unsynced.store(!synced, Ordering::Relaxed);
    }
    answer(batch.drain(..ran), written.err().as_ref());
}

/// How the jobs of one transaction are kept apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// None: a failing job ends the attempt (`Attempt::JobFailed`), and the transaction is rolled back.
    Shared,
    /// Each job in its savepoint, rolled back alone if it fails.
    Savepoints,
}

enum Attempt {
    /// The first `ran` jobs were run; `written` says whether their transaction was committed.
    Ended { ran: usize, written: Result<(), Lost> },
    /// The job at this index failed (`Isolation::Shared` only), with what to answer if it did not fail by
    /// itself (it ended the transaction); the transaction was rolled back.
    JobFailed(usize, Option<Lost>),
}

fn run_batch(conn: &mut Connection, batch: &mut [Box<dyn Job>], max_work: Duration, isolation: Isolation) -> Attempt {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return Attempt::Ended { ran: batch.len(), written: Err(Lost::from(e)) },
    };
    let started = Instant::now();
    let (mut ran, mut lost) = (0, None);
    for (index, job) in batch.iter_mut().enumerate() {
        if ran > 0 && started.elapsed() > max_work {
            break;
        }
        ran += 1;
        let outcome = match isolation {
            Isolation::Shared => run_shared(&tx, job.as_mut()),
            Isolation::Savepoints => run_isolated(&tx, job.as_mut()).map(|()| Ok(())),
        };
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(why)) => return Attempt::JobFailed(index, why), // dropping `tx` rolls it back
            Err(e) => {
                lost = Some(e);
                break;
            }
        }
    }
    let written = match lost {
        Some(why) => Err(why), // dropping `tx` rolls back whatever is left of it
        None => tx.commit().map_err(Lost::from),
    };
    Attempt::Ended { ran, written }
}

/// Runs one job on the shared transaction. `Ok(Err(_))`: the job failed (with what to answer it if its own
/// result says it succeeded: it ended the transaction). An error means the transaction is gone for a reason
/// that would fail any job (a full or read-only disk).
fn run_shared(conn: &Connection, job: &mut dyn Job) -> Result<Result<(), Option<Lost>>, Lost> {
    let ok = catch_unwind(AssertUnwindSafe(|| job.run(conn))).unwrap_or(false);
    if !conn.is_autocommit() {
        return Ok(if ok { Ok(()) } else { Err(None) });
    }
    match job.storage_failure() {
        Some(message) => Err(Lost::Storage(message)),
        None => Ok(Err(Some(Lost::Other("the transaction ended inside a job".into())))),
    }
}

/// Past `WAL_CHECKPOINT_BYTES`, checkpoints the WAL and truncates it here, between batches: the writes that
/// make it grow wait meanwhile (the queue is bounded), so however fast they come the WAL stays near that
/// size. The wait for readers of older snapshots is bounded (`super::checkpoint`); a checkpoint they keep
/// from finishing is tried again after the next batch.
fn keep_wal_small(conn: &Connection, wal: &Path) {
    if super::file_len(wal) <= super::WAL_CHECKPOINT_BYTES {
        return;
    }
    if let Err(e) = super::checkpoint(conn) {
        tracing::warn!(error = %e, "the writer could not checkpoint the WAL");
    }
}

/// Runs one job in its own savepoint: kept if it succeeded, rolled back if it failed or panicked. An
/// error means the transaction itself is gone (SQLite rolled it back, or the job ended it).
fn run_isolated(conn: &Connection, job: &mut dyn Job) -> Result<(), Lost> {
    let step = |sql: &str| conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(drop).map_err(Lost::from);
    step("SAVEPOINT job")?;
    let ok = catch_unwind(AssertUnwindSafe(|| job.run(conn))).unwrap_or(false);
    if conn.is_autocommit() {
        // SQLite rolls the whole transaction back on some errors (a full disk among them).
        return Err(job
            .storage_failure()
            .map_or_else(|| Lost::Other("the transaction ended inside a job".into()), Lost::Storage));
    }
    if ok {
        step("RELEASE job")
    } else {
        step("ROLLBACK TO job")?;
        step("RELEASE job")
    }
}

fn answer(jobs: impl Iterator<Item = Box<dyn Job>>, lost: Option<&Lost>) {
    for job in jobs {
        job.answer(lost);
    }
}

#[cfg(test)]
mod tests;
