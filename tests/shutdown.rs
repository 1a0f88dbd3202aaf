//! A graceful stop with the real binary: SIGTERM while clients keep posting payments. revlink stops
//! accepting, finishes what is in flight, checkpoints and exits within a few seconds; started again on
//! the same data, it holds every payment it answered 200 for, once.

#[path = "support/binary.rs"]
mod binary;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use binary::{free_port, ok_json};

fn serve(dir: &Path, port: u16) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_revlink"))
        .env("ROCKET_DATA_DIR", dir.join("data"))
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_LOG_LEVEL", "off")
        .env("ROCKET_RATE_LIMIT_PER_MINUTE", "1000000")
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("revlink starts")
}

async fn wait_up(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.get(format!("{base}/api/v1/health")).send().await.is_err() {
        assert!(Instant::now() < deadline, "revlink did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_loses_no_answered_payment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_json(d, &["user", "create", "--email", "me@example.com"]);
    let site = ok_json(d, &["website", "create", "--owner", "me@example.com", "--domain", "shop.example.com"]);
    let site = site["websiteId"].as_str().unwrap().to_owned();
    let key = ok_json(d, &["apikey", "create", "--website", &site])["key"].as_str().unwrap().to_owned();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut server = serve(d, port);
    wait_up(&http, &base).await;

    // Eight clients post until the server stops answering; each keeps the ids answered 200.
    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for client in 0..8 {
        let (http, base, key, answered) = (http.clone(), base.clone(), key.clone(), Arc::clone(&answered));
        clients.push(tokio::spawn(async move {
            for n in 0..100_000 {
                let id = format!("c{client}-{n}");
                let body = json!({"amount": 10, "currency": "USD", "transaction_id": id});
                let sent = http.post(format!("{base}/api/v1/payments")).bearer_auth(&key).json(&body).send().await;
                match sent {
                    Ok(res) if res.status() == 200 => answered.lock().unwrap().push(id),
                    Ok(_) => {}
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = answered.lock().unwrap().len();
    assert!(before > 50, "the load is running: {before} payments answered");

    let stopping = Instant::now();
    let pid = server.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap();
    let took = stopping.elapsed();
    assert!(status.success(), "a clean exit: {status:?}");
    assert!(took < Duration::from_secs(8), "stopped in {took:?}");
    for c in clients {
        tokio::time::timeout(Duration::from_secs(30), c).await.expect("clients end").unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    let wal = d.join("data/revlink.sqlite3-wal");
    assert!(std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0, "checkpointed at shutdown");

    // Started again: every answered payment is there, once.
    let mut server = serve(d, port);
    wait_up(&http, &base).await;
    let db = rusqlite::Connection::open(d.join("data/revlink.sqlite3")).unwrap();
    let mut stmt = db.prepare("SELECT COUNT(*) FROM payments WHERE transaction_id = ?1").unwrap();
    for id in &answered {
        let n: i64 = stmt.query_row([id], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "{id} answered 200 and stored {n} times");
    }
    server.kill().unwrap();
    server.wait().unwrap();
}
