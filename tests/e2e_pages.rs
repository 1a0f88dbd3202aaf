//! Every page in a real headless Chromium, as a person with a phone and a keyboard uses it: each page at 1280 px and
//! at 390 px, where nothing may scroll sideways (`scrollWidth <= innerWidth`); the chart reached with Tab and read
//! bucket by bucket with the arrow keys; a tapped bucket shows its figures. Screenshots of each page at both widths
//! go to `target/e2e-screenshots/pages-*.png`.
//!
//! Needs Chromium, so it is ignored by plain `cargo test`; `.ci/run` runs it with `--ignored`.

#[path = "support/chrome.rs"]
mod chrome;

use chrome::{admin, chromedriver, chromium, fill, free_port, shot, submit, wait_for_text};
use fantoccini::{Client, Locator};
use serde_json::json;

const TAB: &str = "\u{e004}";
const LEFT: &str = "\u{e012}";
const HOME: &str = "\u{e011}";

/// How far the page scrolls sideways at the browser's current width (0 or less: it fits).
async fn overflow(browser: &Client) -> i64 {
    let v = browser.execute("return document.documentElement.scrollWidth - window.innerWidth", vec![]).await.unwrap();
    v.as_i64().unwrap_or(i64::MAX)
}

async fn script(browser: &Client, js: &str) -> serde_json::Value {
    browser.execute(js, vec![]).await.unwrap()
}

/// Opens `path` at desktop and phone width, with a screenshot of each; what scrolls sideways on the phone is noted
/// in `wide`.
async fn visit(browser: &Client, base: &str, path: &str, name: &str, wide: &mut Vec<String>) {
    browser.set_window_size(1280, 1000).await.unwrap();
    browser.goto(&format!("{base}{path}")).await.unwrap();
    shot(browser, &format!("pages-{name}")).await;
    browser.set_window_size(390, 844).await.unwrap();
    let by = overflow(browser).await;
    if by > 0 {
        let culprits = script(
            browser,
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > \
             window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className).join(', ')",
        )
        .await;
        wide.push(format!("{path} scrolls {by}px sideways at 390 px ({culprits})"));
    }
    shot(browser, &format!("pages-{name}-phone")).await;
    browser.set_window_size(1280, 1000).await.unwrap();
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver; .ci/run installs them and runs this with --ignored"]
#[allow(clippy::too_many_lines)] // one walk through every page, told in order
async fn every_page_fits_a_phone_and_the_chart_reads_by_keyboard() {
    // An owner with a website and a year of payments (through the Payments API), revlink running.
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    std::fs::write(data.path().join("pw"), "correct horse battery\n").unwrap();
    let pw = data.path().join("pw");
    admin(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "owner@example.com",
            "--name",
            "Olivia",
            "--password-file",
            pw.to_str().unwrap(),
        ],
    );
    let site = admin(
        &dir,
        &[
            "website",
            "create",
            "--owner",
            "owner@example.com",
            "--domain",
            "a-rather-long-shop-name.example.com",
            "--timezone",
            "Europe/Berlin",
        ],
    );
    let site = site["websiteId"].as_str().unwrap().to_owned();
    let key =
        admin(&dir, &["apikey", "create", "--website", &site, "--name", "server"])["key"].as_str().unwrap().to_owned();
    let port = free_port();
    let _server = chrome::serve(data.path(), &dir, port, &[("ROCKET_STRIPE_API_BASE", "http://127.0.0.1:9")]);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for i in 0..40u32 {
        let paid = chrono::Utc::now() - chrono::Duration::days(i64::from(i * 9));
        let body = json!({"amount": 19 + i, "currency": "USD", "transaction_id": format!("pi_3QxLongTransactionId{i:04}"),
                          "datafast_visitor_id": format!("0b5c1d2e-3f40-4a5b-8c6d-{i:012}"), "refunded": i % 7 == 3,
                          "email": format!("a.very.long.customer.address.{i}@example.com"),
                          "timestamp": paid.format("%Y-%m-%dT%H:%M:%SZ").to_string()});
        for _ in 0..50 {
            if let Ok(res) = http.post(format!("{base}/api/v1/payments")).bearer_auth(&key).json(&body).send().await {
                assert!(res.status().is_success(), "{}", res.text().await.unwrap_or_default());
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    let (_driver, driver_port) = chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let browser = chromium(driver_port, profile.path(), false).await;
    let mut wide = Vec::new();

    // Logged out: the login page and a missing page.
    visit(&browser, &base, "/login", "login", &mut wide).await;
    visit(&browser, &base, "/no-such-page", "not-found", &mut wide).await;

    browser.goto(&format!("{base}/login")).await.unwrap();
    fill(&browser, "email", "owner@example.com").await;
    fill(&browser, "password", "correct horse battery").await;
    submit(&browser, "form[action='/login']").await;
    wait_for_text(&browser, "Revenue").await;

    let pages = [
        ("/websites", "websites"),
        (&format!("/websites/{site}/dashboard") as &str, "dashboard"),
        (&format!("/websites/{site}/revenue?range=12mo"), "revenue"),
        (&format!("/websites/{site}/revenue?range=30d&kind=refunded"), "revenue-refunded"),
        (&format!("/websites/{site}/integrations"), "integrations"),
        (&format!("/websites/{site}/keys"), "keys"),
        (&format!("/websites/{site}/team"), "team"),
        (&format!("/websites/{site}"), "general"),
        (&format!("/websites/{site}/delete"), "delete"),
        ("/account/tokens", "tokens"),
        ("/account/password", "password"),
    ];
    for (path, name) in pages {
        visit(&browser, &base, path, name, &mut wide).await;
    }
    assert!(wide.is_empty(), "pages wider than a phone:\n{}", wide.join("\n"));

    // The chart by keyboard: Tab reaches one bucket (the last month), the arrow keys move between them and the
    // readout follows.
    browser.goto(&format!("{base}/websites/{site}/revenue?range=12mo")).await.unwrap();
    let last = script(&browser, "return document.getElementById('chart-readout').textContent").await;
    let mut on_chart = false;
    for _ in 0..80 {
        browser.active_element().await.unwrap().send_keys(TAB).await.unwrap();
        if script(&browser, "return document.activeElement.classList.contains('bucket')").await == json!(true) {
            on_chart = true;
            break;
        }
    }
    assert!(on_chart, "Tab reaches the chart");
    let focused = script(&browser, "return document.activeElement.dataset.label").await;
    assert!(last.as_str().unwrap().contains(focused.as_str().unwrap()), "the readout starts at the focused bucket");
    browser.active_element().await.unwrap().send_keys(LEFT).await.unwrap();
    let moved = script(&browser, "return document.activeElement.dataset.label").await;
    let readout = script(&browser, "return document.getElementById('chart-readout').textContent").await;
    assert_ne!(moved, focused, "ArrowLeft moves to the previous bucket");
    assert!(readout.as_str().unwrap().contains(moved.as_str().unwrap()), "{readout} names {moved}");
    browser.active_element().await.unwrap().send_keys(HOME).await.unwrap();
    let first =
        script(&browser, "return document.activeElement === document.querySelector('svg[data-chart] .bucket')").await;
    assert_eq!(first, json!(true), "Home goes to the first bucket");
    shot(&browser, "pages-chart-keyboard").await;

    // On a phone, a tapped bucket shows its figures.
    browser.set_window_size(390, 844).await.unwrap();
    let bucket = browser.find(Locator::Css("svg[data-chart] .bucket:nth-of-type(8)")).await.unwrap();
    bucket.click().await.unwrap();
    let tapped =
        script(&browser, "return document.querySelector('svg[data-chart] .bucket:nth-of-type(8)').dataset.label").await;
    let readout = script(&browser, "return document.getElementById('chart-readout').textContent").await;
    assert!(readout.as_str().unwrap().contains(tapped.as_str().unwrap()), "{readout} names the tapped {tapped}");
    shot(&browser, "pages-chart-tapped-phone").await;
    browser.close().await.unwrap();
}
