//! Crash safety with the real binary: revlink is killed (SIGKILL) twice in the middle of a backfill and
//! started again on the same data each time; the import ends with exactly the account's payments.

#[path = "support/binary.rs"]
mod binary;
#[path = "api/stripe_account.rs"]
mod stripe_account;
#[path = "support/stripe_fake.rs"]
mod stripe_fake;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use binary::{free_port, ok_json};
use stripe_account::{Account, NewCharge, unix_days_ago};

const CHARGES: i64 = 1500;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, port: u16, stripe: &str) -> Server {
    Server(
        Command::new(env!("CARGO_BIN_EXE_revlink"))
            .env("ROCKET_DATA_DIR", dir.join("data"))
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_STRIPE_API_BASE", stripe)
            .env("ROCKET_ENVIRONMENT", "development")
            .env("ROCKET_LOG_LEVEL", "off")
            .env("ROCKET_STRIPE_TEST_REQUESTS_PER_SECOND", "100000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("revlink starts"),
    )
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn sync_state(&self, site: &str) -> Option<Value> {
        let url = format!("{}/api/v1/admin/websites/{site}/integrations/stripe", self.base);
        let res = self.http.get(url).bearer_auth(&self.token).send().await.ok()?;
        let body: Value = res.json().await.ok()?;
        Some(body["data"][0]["sync"].clone())
    }

    /// Polls until `done` (the server may still be starting).
    async fn wait(&self, site: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.sync_state(site).await
                && done(&s)
            {
                return s;
            }
            assert!(Instant::now() < deadline, "never got there: {:?}", self.sync_state(site).await);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twice_mid_backfill_it_ends_with_exactly_the_accounts_payments() {
    let account = Account::default();
    account.with(|d| {
        for i in 0..CHARGES {
            d.charge(NewCharge { amount: 100 + i, created: unix_days_ago(5) - i * 60, ..Default::default() });
        }
        d.delay = Duration::from_millis(40);
    });
    let fake = stripe_fake::StripeFake::start().await;
    account.mount(&fake.server).await;

    let dir = tempfile::tempdir().unwrap();
    ok_json(dir.path(), &["user", "create", "--email", "owner@example.com"]);
    let site = ok_json(
        dir.path(),
        &["website", "create", "--owner", "owner@example.com", "--domain", "shop.example.com"],
    )["websiteId"]
        .as_str()
        .unwrap()
        .to_owned();
    let token =
        ok_json(dir.path(), &["token", "create", "--email", "owner@example.com"])["key"].as_str().unwrap().to_owned();
    let port = free_port();
    let api = Api { http: reqwest::Client::new(), base: format!("http://127.0.0.1:{port}"), token };

    let server = start(dir.path(), port, &fake.url());
    let connect = loop {
        let sent = api
            .http
            .post(format!("{}/api/v1/admin/websites/{site}/integrations/stripe", api.base))
            .bearer_auth(&api.token)
            .header("content-type", "application/json")
            .body(r#"{"stripeRak":"rk_test_51CrashCrashCrashCrashCrash"}"#)
            .send()
            .await;
        match sent {
            Ok(res) => break res,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    assert_eq!(connect.status().as_u16(), 200);

    // Killed while pages are being read and written, twice.
    api.wait(&site, |s| s["imported"].as_i64() >= Some(300)).await;
    drop(server);
    let server = start(dir.path(), port, &fake.url());
    let resumed = api.wait(&site, |s| s["imported"].as_i64() >= Some(800)).await;
    assert_eq!(resumed["phase"], "backfill");
    drop(server);

    account.with(|d| d.delay = Duration::ZERO);
    let _server = start(dir.path(), port, &fake.url());
    let done = api.wait(&site, |s| s["state"] == "idle" && s["phase"] == "incremental").await;
    assert_eq!(done["imported"].as_i64(), Some(CHARGES), "{done}");

    // Every payment once, with its amount: read back through the API, page by page.
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/api/v1/admin/websites/{site}/payments?limit=100", api.base);
        if let Some(c) = &cursor {
            url.push_str("&cursor=");
            url.push_str(c);
        }
        let res = api.http.get(url).bearer_auth(&api.token).send().await.unwrap();
        cursor = res.headers().get("x-next-cursor").map(|v| v.to_str().unwrap().to_owned());
        let body: Value = res.json().await.unwrap();
        for p in body["data"].as_array().unwrap() {
            assert!(seen.insert(p["transactionId"].as_str().unwrap().to_owned()), "{p} twice");
            total += p["amount"].as_i64().unwrap();
        }
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(i64::try_from(seen.len()).unwrap(), CHARGES);
    assert_eq!(total, (0..CHARGES).map(|i| 100 + i).sum::<i64>());
}
