//! End to end in a real headless Chromium (Debian's `chromium` + `chromium-driver`): the printed
//! setup link → setup → log out and in → create a website → a wrong key's message → connect Stripe
//! (the in-process fake) → "Connected" and the currency → disconnect.
//!
//! Needs Chromium, so it is ignored by plain `cargo test`; `.ci/run` installs Chromium and runs it
//! with `cargo test --test e2e -- --ignored`. Screenshots go to `target/e2e-screenshots/`.

#[path = "support/stripe_fake.rs"]
mod stripe_fake;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use wiremock::matchers::{header, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const GOOD_KEY: &str = "rk_live_51GoodKeyAbcdefghijklmnopqrst";
const WRONG_KEY: &str = "rk_live_51WrongKeyAbcdefghijklmnopqrs";

/// Kills a child process when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn shot(browser: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    if let Ok(png) = browser.screenshot().await {
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

async fn fill(browser: &Client, id: &str, value: &str) {
    let field = browser.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("#{id}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

async fn submit(browser: &Client, form_css: &str) {
    browser.find(Locator::Css(&format!("{form_css} button[type=submit]"))).await.unwrap().click().await.unwrap();
}

async fn wait_for_text(browser: &Client, text: &str) {
    let xpath = format!("//*[contains(normalize-space(.), '{text}')]");
    if let Err(e) = browser.wait().at_most(Duration::from_secs(15)).for_element(Locator::XPath(&xpath)).await {
        shot(browser, "failure").await;
        let source = browser.source().await.unwrap_or_default();
        panic!("{text:?} never appeared ({e}); page:\n{source}");
    }
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver; .ci/run installs them and runs this with --ignored"]
#[allow(clippy::too_many_lines)] // one walk through the pages, told in order
async fn from_setup_link_to_connected_stripe_in_a_browser() {
    // Arrange: the Stripe fake (a wrong key is refused, the good one sees a EUR account) ...
    let fake = stripe_fake::StripeFake::start().await;
    Mock::given(header("authorization", format!("Bearer {WRONG_KEY}").as_str()))
        .respond_with(stripe_fake::invalid_key())
        .mount(&fake.server)
        .await;
    // The import's charge page takes a while, so the browser sees it running and the page follow it.
    Mock::given(path("/v1/charges"))
        .and(query_param("limit", "100"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(stripe_fake::list("/v1/charges", vec![stripe_fake::charge(true)]))
                .set_delay(Duration::from_secs(4)),
        )
        .mount(&fake.server)
        .await;
    fake.healthy(true, &[(420_000, "eur"), (1_000, "usd")]).await;

    // ... revlink itself, as a person starts it ...
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_revlink"))
        .current_dir(data.path())
        .env("ROCKET_DATA_DIR", data.path().join("data"))
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_STRIPE_API_BASE", fake.url())
        .env("ROCKET_ENVIRONMENT", "production")
        .env("ROCKET_LOG_LEVEL", "critical")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("revlink starts");
    let stdout = server.stdout.take().unwrap();
    let _server = Killed(server);
    let setup_link = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.trim().starts_with("http://").then(|| line.trim().to_owned()))
        .expect("revlink prints a setup link");

    // ... and a browser.
    let driver_port = free_port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={driver_port}"))
        .stdout(Stdio::null())
        .spawn()
        .expect("chromedriver");
    let _driver = Killed(driver);
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1200,1000", format!("--user-data-dir={}", profile.path().display())]
        }),
    );
    let mut browser = None;
    for _ in 0..50 {
        if let Ok(b) = ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
        {
            browser = Some(b);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let browser = browser.expect("chromedriver answers");
    let base = format!("http://127.0.0.1:{port}");

    // Act & assert: setup with the printed code.
    browser.goto(&format!("{base}/setup?code=wrong")).await.unwrap();
    wait_for_text(&browser, "This setup link is not valid").await;
    browser.goto(&setup_link).await.unwrap();
    fill(&browser, "email", "owner@example.com").await;
    fill(&browser, "name", "Olivia Owner").await;
    fill(&browser, "password", "correct horse battery").await;
    fill(&browser, "domain", "first.example.com").await;
    fill(&browser, "timezone", "Europe/Berlin").await;
    shot(&browser, "01-setup").await;
    submit(&browser, "form[action='/setup']").await;
    wait_for_text(&browser, "Not connected.").await;

    // Log out, then log in.
    browser.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    wait_for_text(&browser, "You are logged out").await;
    fill(&browser, "email", "owner@example.com").await;
    fill(&browser, "password", "wrong password").await;
    submit(&browser, "form[action='/login']").await;
    wait_for_text(&browser, "Wrong email or password").await;
    fill(&browser, "password", "correct horse battery").await;
    submit(&browser, "form[action='/login']").await;
    wait_for_text(&browser, "Add a website").await;

    // Create a website: it lands on its Integrations page.
    fill(&browser, "domain", "https://second.example.com").await;
    submit(&browser, "form[action='/websites']").await;
    wait_for_text(&browser, "without a scheme").await;
    fill(&browser, "domain", "second.example.com").await;
    fill(&browser, "name", "<script>alert(1)</script>").await;
    submit(&browser, "form[action='/websites']").await;
    wait_for_text(&browser, "Website second.example.com added").await;
    wait_for_text(&browser, "<script>alert(1)</script>").await;
    shot(&browser, "02-integrations").await;

    // A wrong key: the API's message, next to the field, in place.
    fill(&browser, "stripeRak", WRONG_KEY).await;
    submit(&browser, "form[data-api-form]").await;
    wait_for_text(&browser, "Stripe rejected this key: it is invalid, expired or revoked").await;
    fill(&browser, "stripeRak", "sk_live_notrestricted").await;
    submit(&browser, "form[data-api-form]").await;
    wait_for_text(&browser, "Invalid key format (must start with rk_)").await;
    shot(&browser, "03-wrong-key").await;

    // The right key: connected, with the account's currency.
    fill(&browser, "stripeRak", GOOD_KEY).await;
    submit(&browser, "form[data-api-form]").await;
    wait_for_text(&browser, "Connected ·").await;
    wait_for_text(&browser, "currency EUR").await;
    let page = browser.source().await.unwrap();
    assert!(!page.contains(GOOD_KEY), "the key never comes back to the page");
    assert!(page.contains("rk_live_...qrst"), "the masked key is shown");
    shot(&browser, "04-connected").await;
    browser.set_window_size(390, 844).await.unwrap();
    let overflow =
        browser.execute("return document.documentElement.scrollWidth - window.innerWidth", vec![]).await.unwrap();
    assert!(overflow.as_i64().unwrap_or(1) <= 0, "the page fits a phone screen: {overflow}");
    shot(&browser, "04-connected-phone").await;
    browser.set_window_size(1200, 1000).await.unwrap();

    // The import starts by itself; the page follows it (reloading itself) until the history is in.
    wait_for_text(&browser, "Importing your Stripe history").await;
    shot(&browser, "05-importing").await;
    wait_for_text(&browser, "Up to date.").await;
    wait_for_text(&browser, "1 payment imported").await;
    shot(&browser, "05-imported").await;
    browser.find(Locator::LinkText("See revenue")).await.unwrap().click().await.unwrap();
    wait_for_text(&browser, "Latest payments").await;
    let start = browser.find(Locator::Id("start")).await.unwrap();
    start.clear().await.unwrap();
    start.send_keys("05/01/2024").await.unwrap();
    let end = browser.find(Locator::Id("end")).await.unwrap();
    end.clear().await.unwrap();
    end.send_keys("05/31/2024").await.unwrap();
    submit(&browser, "form#range").await;
    wait_for_text(&browser, "2024-05-01 to 2024-05-31").await;
    wait_for_text(&browser, "29.00 USD").await;
    wait_for_text(&browser, "0b5c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3").await;
    let bars = browser.find_all(Locator::Css("figure.chart svg g")).await.unwrap();
    assert_eq!(bars.len(), 31, "one bar per day of May");
    shot(&browser, "06-revenue").await;
    browser.set_window_size(390, 844).await.unwrap();
    let overflow =
        browser.execute("return document.documentElement.scrollWidth - window.innerWidth", vec![]).await.unwrap();
    assert!(overflow.as_i64().unwrap_or(1) <= 0, "the revenue page fits a phone screen: {overflow}");
    shot(&browser, "06-revenue-phone").await;
    browser.set_window_size(1200, 1000).await.unwrap();
    browser.find(Locator::LinkText("Integrations")).await.unwrap().click().await.unwrap();

    // Disconnect, with a confirmation.
    browser.find(Locator::LinkText("Disconnect Stripe…")).await.unwrap().click().await.unwrap();
    wait_for_text(&browser, "Disconnect Stripe?").await;
    submit(&browser, "form[action$='/integrations/stripe/disconnect']").await;
    wait_for_text(&browser, "Stripe disconnected successfully").await;
    wait_for_text(&browser, "Not connected.").await;
    shot(&browser, "07-disconnected").await;

    browser.close().await.unwrap();
}
