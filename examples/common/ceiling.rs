//! The loop the ceiling examples share (included by path; not an example itself): `concurrency` tasks, each
//! making writes one after another until `seconds` are up, then one line `{"writes":…,"seconds":…}` on stdout.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Runs `write(task, n)` for n = 1, 2, … in each of `concurrency` tasks for `seconds`, and prints how many were
/// written (what each write answers is not needed).
pub async fn run<F, Fut, T>(concurrency: u64, seconds: u64, write: F) -> Result<(), Box<dyn std::error::Error>>
where
    F: Fn(u64, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = T> + Send,
{
    let (written, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let (write, written, stop) = (write.clone(), Arc::clone(&written), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    drop(write(task, n).await);
                    written.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(r#"{{"writes":{},"seconds":{elapsed:.3}}}"#, written.load(Ordering::Relaxed));
    Ok(())
}
