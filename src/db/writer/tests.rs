//! The writer's tests: grouping, durability before the answer, a failing job alone, a lost batch, backpressure.

use super::*;

/// A writer on a fresh database; batches are bounded by their number of jobs only, unless `max_work` is
/// given (a slow test machine must not split the batches these tests count).
fn start() -> (tempfile::TempDir, Writer, std::path::PathBuf) {
    start_with(Duration::from_hours(1))
}

fn start_with(max_work: Duration) -> (tempfile::TempDir, Writer, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.sqlite3");
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE log (x INTEGER NOT NULL);
             CREATE TABLE one (x INTEGER PRIMARY KEY);
             CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .unwrap();
    let writer = Writer::start_with(&path, max_work).unwrap();
    (dir, writer, path)
}

fn read(path: &Path, sql: &str) -> Vec<i64> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
}

fn insert(table: &'static str, x: i64) -> impl Fn(&Connection) -> Result<()> + Send + 'static {
    move |c| {
        c.execute(&format!("INSERT INTO {table} (x) VALUES (?1)"), [x])?;
        Ok(())
    }
}

fn batches(w: &Writer) -> u64 {
    w.counts.batches.load(Ordering::Relaxed)
}

/// Jobs sent and not yet taken by the writer.
fn queued(w: &Writer) -> usize {
    w.jobs.max_capacity() - w.jobs.capacity()
}

async fn until_queued(w: &Writer, n: usize) {
    while queued(w) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Keeps the writer busy inside a job until the sender is used or dropped, so that what is sent
/// meanwhile queues up and forms one batch.
async fn hold(w: &Writer) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<Result<()>>) {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (inside, entered) = oneshot::channel();
    let inside = std::sync::Mutex::new(Some(inside));
    let w = w.clone();
    let held = tokio::spawn(async move {
        w.write(move |_| {
            if let Some(inside) = inside.lock().unwrap().take() {
                let _ = inside.send(());
            }
            let _ = wait.recv();
            Ok(())
        })
        .await
    });
    entered.await.unwrap();
    (release, held)
}

/// Sends `f` from its own task once the jobs before it are queued, so that the queue keeps their order.
async fn send<T: Send + 'static>(
    w: &Writer,
    f: impl Fn(&Connection) -> Result<T> + Send + 'static,
) -> tokio::task::JoinHandle<Result<T>> {
    let before = queued(w);
    let sender = w.clone();
    let task = tokio::spawn(async move { sender.write(f).await });
    until_queued(w, before + 1).await;
    task
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_writes_all_land_exactly_once() {
    let (_dir, w, path) = start();
    let tasks: Vec<_> = (0..600)
        .map(|i| {
            let w = w.clone();
            tokio::spawn(async move { w.write(insert("log", i)).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(read(&path, "SELECT COUNT(*) FROM log UNION ALL SELECT COUNT(DISTINCT x) FROM log"), [600, 600]);
    assert!(batches(&w) <= 600);
}

#[tokio::test]
async fn writes_that_queue_together_share_one_transaction() {
    let (_dir, w, path) = start();
    let (release, held) = hold(&w).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        tasks.push(send(&w, insert("log", i)).await);
    }
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(batches(&w), 2, "the held job's transaction, then one for the hundred");
    assert_eq!(read(&path, "SELECT COUNT(*) FROM log"), [100]);
}

#[tokio::test]
async fn a_failing_job_is_rolled_back_alone_and_gets_its_own_error() {
    let (_dir, w, path) = start();
    let (release, held) = hold(&w).await;
    let first = send(&w, insert("one", 1)).await;
    let refused = send(&w, |c| {
        insert("one", 2)(c)?;
        Err::<(), _>(Error::Conflict("refused".into()))
    })
    .await;
    let duplicate = send(&w, insert("one", 1)).await;
    let last = send(&w, insert("one", 3)).await;
    let panics = send(&w, |c| -> Result<()> {
        insert("one", 4)(c)?;
        panic!("a job that panics");
    })
    .await;
    release.send(()).unwrap();
    held.await.unwrap().unwrap();

    first.await.unwrap().unwrap();
    assert!(matches!(refused.await.unwrap(), Err(Error::Conflict(m)) if m == "refused"));
    assert!(matches!(duplicate.await.unwrap(), Err(Error::Db(e)) if crate::db::is_unique_violation(&e)));
    last.await.unwrap().unwrap();
    assert!(matches!(panics.await.unwrap(), Err(Error::Internal(m)) if m.contains("panicked")));
    assert_eq!(batches(&w), 2, "all in one transaction");
    assert_eq!(read(&path, "SELECT x FROM one ORDER BY x"), [1, 3]);
}

#[tokio::test]
async fn an_answer_comes_only_once_its_batch_is_committed() {
    let (_dir, w, path) = start();
    let (release, held) = hold(&w).await;
    let early = send(&w, insert("log", 1)).await;
    // A slow job after it in the same batch: an answer sent before the commit would come this early.
    let slow = send(&w, |_| {
        std::thread::sleep(Duration::from_millis(300));
        Ok(())
    })
    .await;
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    early.await.unwrap().unwrap();
    assert_eq!(read(&path, "SELECT COUNT(*) FROM log"), [1], "visible to another connection at once");
    slow.await.unwrap().unwrap();
    assert_eq!(batches(&w), 2);
    let sync: i64 = w.write(|c| Ok(c.query_row("PRAGMA synchronous", [], |r| r.get(0))?)).await.unwrap();
    assert_eq!(sync, 2, "FULL");
}

#[tokio::test]
async fn when_the_commit_fails_no_job_of_the_batch_is_told_it_was_written() {
    let (_dir, w, path) = start();
    let (release, held) = hold(&w).await;
    let innocent = send(&w, insert("log", 1)).await;
    // A deferred foreign key is checked at COMMIT only: this job succeeds, the commit then fails.
    let orphan = send(&w, |c| Ok(c.execute("INSERT INTO child (parent) VALUES (7)", [])?)).await;
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    assert!(matches!(innocent.await.unwrap(), Err(Error::Internal(m)) if m.contains("not committed")));
    assert!(orphan.await.unwrap().is_err());
    assert_eq!(read(&path, "SELECT COUNT(*) FROM log UNION ALL SELECT COUNT(*) FROM child"), [0, 0]);
    w.write(insert("log", 2)).await.unwrap();
    assert_eq!(read(&path, "SELECT x FROM log"), [2], "the writer goes on");
}

#[tokio::test]
async fn a_job_that_ends_the_transaction_fails_alone() {
    let (_dir, w, path) = start();
    let (release, held) = hold(&w).await;
    let before = send(&w, insert("log", 1)).await;
    let rogue = send(&w, |c| Ok(c.execute_batch("ROLLBACK")?)).await;
    let after = send(&w, insert("log", 3)).await;
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    assert!(rogue.await.unwrap().is_err());
    before.await.unwrap().unwrap();
    after.await.unwrap().unwrap();
    assert_eq!(read(&path, "SELECT x FROM log ORDER BY x"), [1, 3], "the others run again, and are written");
}

#[tokio::test]
async fn a_batch_past_its_work_budget_leaves_the_rest_to_the_next() {
    let (_dir, w, path) = start_with(Duration::from_millis(50));
    let (release, held) = hold(&w).await;
    let slow = send(&w, |c| {
        std::thread::sleep(Duration::from_millis(100));
        insert("log", 1)(c)
    })
    .await;
    let next = send(&w, insert("log", 2)).await;
    let last = send(&w, insert("log", 3)).await;
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    for task in [slow, next, last] {
        task.await.unwrap().unwrap();
    }
    assert_eq!(batches(&w), 3, "held, slow, then the two it left");
    assert_eq!(read(&path, "SELECT x FROM log ORDER BY x"), [1, 2, 3]);
}

#[tokio::test]
async fn a_flood_waits_for_room_in_the_queue_and_nothing_is_lost() {
    let (_dir, w, path) = start();
    let (release, held) = hold(&w).await;
    let tasks: Vec<_> = (0..QUEUE + 100)
        .map(|i| {
            let w = w.clone();
            tokio::spawn(async move { w.write(insert("log", i64::try_from(i).unwrap())).await })
        })
        .collect();
    until_queued(&w, QUEUE).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(queued(&w), QUEUE, "bounded");
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(read(&path, "SELECT COUNT(DISTINCT x) FROM log"), [i64::try_from(QUEUE + 100).unwrap()]);
}

#[tokio::test]
async fn a_full_disk_is_answered_as_such_to_every_job_it_cost_and_writes_resume_with_space() {
    let (_dir, w, path) = start();
    let pages: i64 = w.write(|c| Ok(c.query_row("PRAGMA page_count", [], |r| r.get(0))?)).await.unwrap();
    w.write(move |c| Ok(c.pragma_update(None, "max_page_count", pages + 2)?)).await.unwrap();
    let (release, held) = hold(&w).await;
    let small = send(&w, insert("log", 1)).await;
    let big = send(&w, |c| {
        c.execute("INSERT INTO log (x) VALUES (zeroblob(1000000))", [])?;
        Ok(())
    })
    .await;
    let filler = send(&w, |c| {
        for _ in 0..200 {
            c.execute("INSERT INTO one (x) VALUES (abs(random()) % 1000000000)", [])?;
        }
        Ok(())
    })
    .await;
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    let storage = |r: Result<()>| matches!(r, Err(Error::Storage(m)) if m.starts_with("Storage is full"));
    let (small, big, filler) = (small.await.unwrap(), big.await.unwrap(), filler.await.unwrap());
    assert!(storage(big) || storage(filler), "the job that hit the cap hears why");
    assert!(small.is_ok() || storage(small), "no other failure than the disk's");
    w.write(move |c| Ok(c.pragma_update(None, "max_page_count", 1_000_000)?)).await.unwrap();
    w.write(insert("log", 9)).await.unwrap();
    assert!(read(&path, "SELECT x FROM log").contains(&9), "written once there is space");
}

#[tokio::test]
async fn unsynced_writes_are_committed_and_a_sync_or_a_synced_batch_covers_them() {
    let (_dir, writer, path) = start();
    writer.write_unsynced(insert("log", 1)).await.unwrap();
    assert_eq!(read(&path, "SELECT x FROM log"), [1], "committed, as another connection sees");
    assert!(writer.counts.unsynced.load(Ordering::Relaxed), "waiting for a sync");
    writer.sync().await.unwrap();
    assert!(!writer.counts.unsynced.load(Ordering::Relaxed));
    let batches = writer.stats().batches;
    writer.sync().await.unwrap();
    assert_eq!(writer.stats().batches, batches, "nothing waiting: no empty batch");
    writer.write_unsynced(insert("log", 2)).await.unwrap();
    writer.write(insert("log", 3)).await.unwrap();
    assert!(!writer.counts.unsynced.load(Ordering::Relaxed), "a synced batch syncs the WAL for the earlier ones");
    assert_eq!(read(&path, "SELECT x FROM log ORDER BY x"), [1, 2, 3]);
}
