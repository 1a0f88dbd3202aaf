//! Backups and checks with the real binary: `revlink backup` while the server runs and a writer keeps
//! posting payments, the restore the README describes (and the scheduled backups of the restored server),
//! and `revlink check` on a healthy database, with a wrong or missing master key, a broken reference
//! and a corrupted file. Everything on 127.0.0.1.

#[path = "support/binary.rs"]
mod binary;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};

use revlink::crypto::MasterKey;
use revlink::db::stripe::{self, NewConnection};
use revlink::domain::{Actor, ObjectId};

use binary::{free_port, ok_json, revlink};

/// A failing command: its stderr, and the JSON it printed (`check` prints its report all the same).
fn fails(dir: &Path, args: &[&str]) -> (String, Option<Value>) {
    let out = revlink(dir, args);
    assert!(!out.status.success(), "{args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    (String::from_utf8(out.stderr).unwrap(), serde_json::from_slice(&out.stdout).ok())
}

/// A user, a website with a sealed Stripe key (so the master key matters), a `dft_` token and a `df_` key.
fn account(dir: &Path) -> (String, String, String) {
    ok_json(dir, &["user", "create", "--email", "ann@example.com"]);
    let site = ok_json(dir, &["website", "create", "--owner", "ann@example.com", "--domain", "shop.example.com"]);
    let site = site["websiteId"].as_str().unwrap().to_owned();
    let figment = revlink::config::figment().merge(("data_dir", dir.join("data")));
    let rt = revlink::Runtime::open(&figment).unwrap();
    let id = ObjectId::parse(&site).unwrap();
    let connection = NewConnection {
        sealed: rt.stripe_keys.seal(&id, "rk_live_51NxQp2Cg7Yq1s8dZt4K9mLbA0vWe3"),
        livemode: true,
        display_key: "rk_live_...vWe3".into(),
        currency: "USD".into(),
    };
    rt.db.with_conn(|c| stripe::connect(c, &id, &connection, &Actor::cli())).unwrap();
    let token = ok_json(dir, &["token", "create", "--email", "ann@example.com"])["key"].as_str().unwrap().to_owned();
    let key = ok_json(dir, &["apikey", "create", "--website", &site])["key"].as_str().unwrap().to_owned();
    (site, token, key)
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// The real binary on a free port of 127.0.0.1, on `dir/data`, imports off.
    fn start(dir: &Path, extra: &[(&str, &Path)]) -> Self {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_revlink"));
        cmd.current_dir(dir)
            .env("ROCKET_DATA_DIR", dir.join("data"))
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_LOG_LEVEL", "off")
            .env("ROCKET_AUTO_IMPORT", "false")
            .env("ROCKET_STRIPE_API_BASE", "http://127.0.0.1:9")
            .env("ROCKET_RATE_LIMIT_PER_MINUTE", "1000000")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in extra {
            cmd.env(name, value);
        }
        Self { child: cmd.spawn().expect("revlink starts"), port }
    }

    /// SIGTERM (Rocket shuts down gracefully), then waits for the process.
    fn stop(mut self) {
        let term = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(term.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    site: String,
    token: String,
    key: String,
}

impl Api {
    async fn ready(self) -> Self {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.http.get(format!("{}/api/v1/health", self.base)).send().await.is_err() {
            assert!(Instant::now() < deadline, "the server never answered");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self
    }

    /// Posts a payment with the `df_` key; whether it was recorded.
    async fn pay(&self, transaction_id: &str) -> bool {
        let body = json!({"amount": 12.5, "currency": "USD", "transaction_id": transaction_id,
                          "customer_name": "n".repeat(400), "email": "buyer@example.com"});
        let sent = self.http.post(format!("{}/api/v1/payments", self.base)).bearer_auth(&self.key).json(&body).send();
        sent.await.is_ok_and(|r| r.status().as_u16() == 200)
    }

    /// Every payment's transaction id, through the API, page by page.
    async fn payments(&self) -> BTreeSet<String> {
        let (mut seen, mut cursor) = (BTreeSet::new(), None::<String>);
        loop {
            let mut url = format!("{}/api/v1/admin/websites/{}/payments?limit=100", self.base, self.site);
            if let Some(c) = &cursor {
                url = format!("{url}&cursor={c}");
            }
            let res = self.http.get(url).bearer_auth(&self.token).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 200);
            cursor = res.headers().get("x-next-cursor").map(|v| v.to_str().unwrap().to_owned());
            let body: Value = res.json().await.unwrap();
            for p in body["data"].as_array().unwrap() {
                assert!(seen.insert(p["transactionId"].as_str().unwrap().to_owned()), "{p} twice");
            }
            if cursor.is_none() {
                return seen;
            }
        }
    }
}

fn read_only(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn integrity(path: &Path) -> String {
    read_only(path).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

fn transaction_ids(path: &Path) -> BTreeSet<String> {
    let conn = read_only(path);
    let mut stmt = conn.prepare("SELECT transaction_id FROM payments").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_writes_restores_into_a_fresh_data_dir() {
    let live = tempfile::tempdir().unwrap();
    let d = live.path();
    let (site, token, key) = account(d);
    let server = Server::start(d, &[]);
    let base = format!("http://127.0.0.1:{}", server.port);
    let api = Api { http: reqwest::Client::new(), base, site, token, key };
    let api = api.ready().await;

    // Data through the API, then a writer that keeps posting while the backup runs.
    let seeders: Vec<_> = (0..4)
        .map(|t| {
            let api = api.clone();
            tokio::spawn(async move {
                for i in 0..400 {
                    assert!(api.pay(&format!("seed-{t}-{i}")).await);
                }
            })
        })
        .collect();
    for s in seeders {
        s.await.unwrap();
    }
    let (acked, done) = (Arc::new(Mutex::new(Vec::<String>::new())), Arc::new(AtomicBool::new(false)));
    let writer = tokio::spawn({
        let (api, acked, done) = (api.clone(), Arc::clone(&acked), Arc::clone(&done));
        async move {
            let mut n = 0;
            while !done.load(Ordering::Relaxed) {
                let id = format!("live-{n}");
                if api.pay(&id).await {
                    acked.lock().unwrap().push(id);
                }
                n += 1;
            }
            n
        }
    });
    while acked.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let acked_before: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    let file = d.join("backup.sqlite3");
    let out = tokio::task::spawn_blocking({
        let (d, file) = (d.to_owned(), file.clone());
        move || ok_json(&d, &["backup", "--to", file.to_str().unwrap()])
    })
    .await
    .unwrap();
    let acked_during = acked.lock().unwrap().len() - acked_before.len();
    done.store(true, Ordering::Relaxed);
    let attempted = writer.await.unwrap();
    assert!(acked_during > 0, "the writer kept writing while the backup ran");

    assert_eq!(out["backup"], file.canonicalize().unwrap().to_str().unwrap());
    assert_eq!(out["integrity"], "ok");
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(out["bytes"].as_u64(), Some(meta.len()));
    assert!(out["pages"].as_u64().unwrap() > 100, "{out}");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(!names_in(d).iter().any(|n| n.contains(".tmp-")), "nothing staged is left: {:?}", names_in(d));
    assert_eq!(integrity(&file), "ok");
    let in_backup = transaction_ids(&file);
    let seeded: BTreeSet<String> = (0..4).flat_map(|t| (0..400).map(move |i| format!("seed-{t}-{i}"))).collect();
    assert!(in_backup.is_superset(&seeded) && in_backup.is_superset(&acked_before), "rows that existed are there");
    let posted: BTreeSet<String> = seeded.iter().cloned().chain((0..attempted).map(|n| format!("live-{n}"))).collect();
    assert!(in_backup.is_subset(&posted));

    // An existing file is kept unless --force.
    let (err, _) = fails(d, &["backup", "--to", "backup.sqlite3"]);
    assert!(err.contains("already exists; --force replaces it"), "{err}");
    assert_eq!(transaction_ids(&file), in_backup);
    let (err, _) = fails(d, &["backup", "--to", "no/such/dir/backup.sqlite3"]);
    assert!(err.contains("cannot create the backup file"), "{err}");
    let (err, _) = fails(d, &["backup", "--to", "data/revlink.sqlite3", "--force"]);
    assert!(err.contains("is the database itself"), "{err}");
    server.stop();

    // The README's restore: the backup as data/revlink.sqlite3 of a fresh data dir, the same master key.
    let fresh = tempfile::tempdir().unwrap();
    let r = fresh.path();
    std::fs::create_dir(r.join("data")).unwrap();
    std::fs::copy(&file, r.join("data/revlink.sqlite3")).unwrap();
    std::fs::copy(d.join("data/master.key"), r.join("data/master.key")).unwrap();
    let backups = r.join("backups");
    let restored = Server::start(r, &[("ROCKET_BACKUP_DIR", &backups)]);
    let api = Api { base: format!("http://127.0.0.1:{}", restored.port), ..api }.ready().await;
    assert_eq!(api.payments().await, in_backup, "the restored server serves what the backup holds");
    let stripe = api.http.get(format!("{}/api/v1/admin/websites/{}/integrations/stripe", api.base, api.site));
    let stripe: Value = stripe.bearer_auth(&api.token).send().await.unwrap().json().await.unwrap();
    assert_eq!(stripe["data"][0]["connected"], true);
    assert!(api.pay("after-restore").await, "the df_ key works on the restored server");

    // Its scheduled backup: written at start-up (backup_dir holds none yet), named by the time.
    let scheduled = wait_for_backup(&backups).await;
    let name = scheduled.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("revlink-") && name.ends_with("Z.sqlite3") && name.len() == 32, "{name}");
    assert_eq!(integrity(&scheduled), "ok");
    assert!(transaction_ids(&scheduled).is_superset(&in_backup));
    assert_eq!(std::fs::metadata(&scheduled).unwrap().permissions().mode() & 0o777, 0o600);
    restored.stop();
    assert_eq!(names_in(&backups), [name], "no second backup within the interval, nothing staged left");

    // With another master key the restored copy's secrets do not open: revlink refuses to start.
    std::fs::write(r.join("data/master.key"), MasterKey::generate_hex()).unwrap();
    let (err, _) = fails(r, &["serve"]);
    assert!(err.contains("refusing to start") && err.contains("cannot decrypt"), "{err}");
}

async fn wait_for_backup(dir: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if dir.exists()
            && let Some(name) = names_in(dir).into_iter().find(|n| n.starts_with("revlink-"))
        {
            return dir.join(name);
        }
        assert!(Instant::now() < deadline, "no scheduled backup appeared in {}", dir.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn check_passes_on_a_healthy_database_and_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (site, _, _) = account(d);
    let healthy = json!({"ok": true, "integrity": "ok", "foreignKeys": [], "secrets": {"checked": 1, "unreadable": []}, "rollups": []});
    assert_eq!(ok_json(d, &["check"]), healthy);

    // A wrong master key: reported, not refused.
    let key_file = d.join("data/master.key");
    let original = std::fs::read_to_string(&key_file).unwrap();
    std::fs::write(&key_file, MasterKey::generate_hex()).unwrap();
    let (err, report) = fails(d, &["check"]);
    assert!(
        err.contains(&format!("cannot open the Stripe key or webhook signing secret of website(s) {site}")),
        "{err}"
    );
    let report = report.expect("the report is printed");
    assert_eq!((&report["ok"], &report["integrity"]), (&json!(false), &json!("ok")));
    assert_eq!(report["secrets"], json!({"checked": 1, "unreadable": [site]}));

    // No master key at all: said, with every secret unreadable; no key is generated.
    std::fs::remove_file(&key_file).unwrap();
    let (err, report) = fails(d, &["check"]);
    assert!(err.contains("orphan"), "{err}");
    assert_eq!(report.unwrap()["secrets"]["unreadable"], json!([site]));
    assert!(!key_file.exists());
    std::fs::write(&key_file, original).unwrap();

    // A row whose website is gone (written with foreign keys off, as a hand edit would).
    let db = d.join("data/revlink.sqlite3");
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO payments (id, website_id, source, transaction_id, amount, currency, paid_at, recorded_at)
         VALUES ('orphan', 'ffffffffffffffffffffffff', 'api', 'tx', 100, 'USD', '2026-01-01T00:00:00.000Z',
                 '2026-01-01T00:00:00.000Z');",
    )
    .unwrap();
    let (err, report) = fails(d, &["check"]);
    // The payment, and the revenue rollups its trigger wrote for that website.
    assert!(err.contains("foreign keys: 3 row(s) refer to a missing parent"), "{err}");
    let broken = report.unwrap()["foreignKeys"].as_array().unwrap().clone();
    let payment = broken.iter().find(|b| b["table"] == "payments").expect("the payment is named");
    assert_eq!((&payment["column"], &payment["parent"]), (&json!("website_id"), &json!("websites")));
    conn.execute("DELETE FROM payments WHERE id = 'orphan'", []).unwrap();
    assert_eq!(ok_json(d, &["check"]), healthy, "its rollups went with it");

    // Rollups that drifted from their payments: named, and rebuilt by --repair.
    conn.execute(
        "INSERT INTO payments (id, website_id, source, transaction_id, amount, currency, paid_at, recorded_at)
         VALUES ('legit', ?1, 'api', 'tx-legit', 100, 'USD', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
        [&site],
    )
    .unwrap();
    assert_eq!(ok_json(d, &["check"]), healthy);
    conn.execute("UPDATE revenue_rollups SET gross = gross + 1 WHERE currency = 'USD'", []).unwrap();
    let (err, report) = fails(d, &["check"]);
    assert!(err.contains(&format!("revenue rollups of website(s) {site} differ")), "{err}");
    assert_eq!(report.unwrap()["rollups"], json!([site]));
    assert_eq!(ok_json(d, &["check", "--repair"]), healthy);
    drop(conn);

    // A corrupted copy: enough payments that the middle of the file is theirs, then bytes overwritten there.
    let conn = Connection::open(&db).unwrap();
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO payments (id, website_id, source, transaction_id, amount, currency, customer_name, paid_at, recorded_at)
         SELECT printf('p%d', i), ?1, 'api', printf('tx-%d', i), i, 'USD', printf('%0400d', i),
                '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' FROM n",
        [&site],
    )
    .unwrap();
    drop(conn);
    let copy = tempfile::tempdir().unwrap();
    let c = copy.path();
    std::fs::create_dir(c.join("data")).unwrap();
    ok_json(d, &["backup", "--to", c.join("data/revlink.sqlite3").to_str().unwrap()]);
    std::fs::copy(&key_file, c.join("data/master.key")).unwrap();
    let mut bytes = std::fs::read(c.join("data/revlink.sqlite3")).unwrap();
    let middle = bytes.len() / 2 / 4096 * 4096;
    bytes[middle..middle + 4096].fill(0x5a);
    std::fs::write(c.join("data/revlink.sqlite3"), bytes).unwrap();
    let (err, report) = fails(c, &["check"]);
    assert!(err.contains("integrity:"), "{err}");
    let report = report.expect("the report is printed");
    assert_eq!(report["ok"], false);
    assert!(report["integrity"].as_array().is_some_and(|found| !found.is_empty()), "{report}");
}
