//! What the browser tests share: the processes they start (revlink, chromedriver), a Chromium session, and the
//! steps they take in it (fill a field, submit, wait for a text, take a screenshot).

#![allow(dead_code)] // shared by several test binaries, each using a part

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Kills a child process when the test ends, however it ends.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A chromedriver on a free port, stopped when the returned guard drops.
pub fn chromedriver() -> (Killed, u16) {
    let port = free_port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("chromedriver");
    (Killed(driver), port)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub async fn shot(browser: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    if let Ok(png) = browser.screenshot().await {
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

pub async fn fill(browser: &Client, id: &str, value: &str) {
    let field = browser.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("#{id}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

pub async fn submit(browser: &Client, form_css: &str) {
    browser.find(Locator::Css(&format!("{form_css} button[type=submit]"))).await.unwrap().click().await.unwrap();
}

pub async fn wait_for_text(browser: &Client, text: &str) {
    let xpath = format!("//*[contains(normalize-space(.), '{text}')]");
    if let Err(e) = browser.wait().at_most(Duration::from_secs(15)).for_element(Locator::XPath(&xpath)).await {
        shot(browser, "failure").await;
        let source = browser.source().await.unwrap_or_default();
        panic!("{text:?} never appeared ({e}); page:\n{source}");
    }
}

pub const DESKTOP_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

/// A Chromium driven by `driver_port`, with `*.example.test` resolved to 127.0.0.1. `as_a_person`: a normal
/// user agent and no `navigator.webdriver` (else the tracking script rightly takes it for a robot).
pub async fn chromium(driver_port: u16, profile: &std::path::Path, as_a_person: bool) -> Client {
    let mut args = vec![
        "--headless".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--window-size=1280,1000".into(),
        "--host-resolver-rules=MAP *.example.test 127.0.0.1".into(),
        "--no-proxy-server".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    if as_a_person {
        args.push(format!("--user-agent={DESKTOP_UA}"));
        args.push("--disable-blink-features=AutomationControlled".into());
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({"binary": "/usr/bin/chromium", "args": args}));
    for _ in 0..50 {
        if let Ok(b) = ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
        {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver answers");
}

/// revlink serving the data directory `data` on 127.0.0.1:`port` from `home`, quiet, with the settings `env`
/// besides; stopped when the guard drops.
pub fn serve(home: &std::path::Path, data: &std::path::Path, port: u16, env: &[(&str, &str)]) -> Killed {
    let server = Command::new(env!("CARGO_BIN_EXE_revlink"))
        .current_dir(home)
        .env("ROCKET_DATA_DIR", data)
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_LOG_LEVEL", "critical")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("revlink starts");
    Killed(server)
}

/// Runs one admin command against the data directory and reads its JSON answer.
pub fn admin(data: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_revlink"))
        .args(args)
        .env("ROCKET_DATA_DIR", data)
        .env("ROCKET_LOG_LEVEL", "critical")
        .output()
        .expect("revlink runs");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

pub async fn api(url: &str, bearer: &str) -> serde_json::Value {
    reqwest::Client::new().get(url).bearer_auth(bearer).send().await.unwrap().json().await.unwrap()
}
