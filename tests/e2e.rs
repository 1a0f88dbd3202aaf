//! End to end in a real headless Chromium (Debian's `chromium` + `chromium-driver`): the printed
//! setup link → setup → log out and in → create a website → a wrong key's message → connect Stripe
//! (the in-process fake) → "Connected" and the currency → disconnect.
//!
//! Needs Chromium, so it is ignored by plain `cargo test`; `.ci/run` installs Chromium and runs it
//! with `cargo test --test e2e -- --ignored`. Screenshots go to `target/e2e-screenshots/`.

#[path = "support/chrome.rs"]
mod chrome;
#[path = "support/stripe_fake.rs"]
mod stripe_fake;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrome::{Killed, admin, api, chromedriver, chromium, fill, free_port, shot, submit, wait_for_text};
use fantoccini::Locator;
use serde_json::json;
use wiremock::matchers::{header, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const GOOD_KEY: &str = "rk_live_51GoodKeyAbcdefghijklmnopqrst";
const WRONG_KEY: &str = "rk_live_51WrongKeyAbcdefghijklmnopqrs";

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
    let (_driver, driver_port) = chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let browser = chromium(driver_port, profile.path(), false).await;
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
    // One website: its Dashboard comes first, still waiting for the first event; the list is a link away.
    wait_for_text(&browser, "Waiting for the first event from first.example.com").await;
    browser.find(Locator::LinkText("Websites")).await.unwrap().click().await.unwrap();
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
    wait_for_text(&browser, "This is a secret key (sk_)").await;
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
    // The card followed the import in place: the success message is still there.
    wait_for_text(&browser, "Stripe connected successfully (EUR)").await;
    shot(&browser, "05-imported").await;
    browser.find(Locator::LinkText("See revenue")).await.unwrap().click().await.unwrap();
    wait_for_text(&browser, "Net revenue").await;
    let start = browser.find(Locator::Id("start")).await.unwrap();
    start.clear().await.unwrap();
    start.send_keys("05/01/2024").await.unwrap();
    let end = browser.find(Locator::Id("end")).await.unwrap();
    end.clear().await.unwrap();
    end.send_keys("05/31/2024").await.unwrap();
    submit(&browser, "form#range").await;
    wait_for_text(&browser, "2024-05-01 to 2024-05-31").await;
    wait_for_text(&browser, "29.00 USD").await;
    wait_for_text(&browser, "0b5c1d2e…b2c3").await;
    let bars = browser.find_all(Locator::Css("figure.chart svg g.bucket")).await.unwrap();
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
    wait_for_text(&browser, "Stripe is disconnected: revlink no longer reads from it").await;
    shot(&browser, "07-disconnected").await;

    browser.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver; .ci/run installs them and runs this with --ignored"]
#[allow(clippy::too_many_lines)] // one visitor's walk from a newsletter to revenue, told in order
async fn a_newsletter_visitor_who_pays_shows_as_newsletter_revenue_on_the_dashboard() {
    // The merchant: an account, a website for shop.example.test, a token; revlink running.
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    std::fs::write(data.path().join("pw"), "correct horse battery\n").unwrap();
    admin(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "owner@example.com",
            "--password-file",
            data.path().join("pw").to_str().unwrap(),
        ],
    );
    let site = admin(&dir, &["website", "create", "--owner", "owner@example.com", "--domain", "shop.example.test"]);
    let site = site["websiteId"].as_str().unwrap().to_owned();
    let token = admin(&dir, &["token", "create", "--email", "owner@example.com"])["key"].as_str().unwrap().to_owned();
    let fake = stripe_fake::StripeFake::start().await;
    let port = free_port();
    let fake_url = fake.url();
    let env = [("ROCKET_STRIPE_API_BASE", fake_url.as_str()), ("ROCKET_ENVIRONMENT", "production")];
    let _server = chrome::serve(data.path(), &dir, port, &env);
    let base = format!("http://127.0.0.1:{port}");
    let mut website = serde_json::Value::Null;
    for _ in 0..100 {
        if let Ok(res) =
            reqwest::Client::new().get(format!("{base}/api/v1/admin/websites/{site}")).bearer_auth(&token).send().await
        {
            website = res.json().await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tracking_id = website["data"][0]["trackingId"].as_str().expect("the website's tracking id").to_owned();

    // The merchant's site, on another origin: a newsletter links to a landing page carrying the script.
    let pages = wiremock::MockServer::start().await;
    let pages_port = pages.address().port();
    let html = |body: String| ResponseTemplate::new(200).set_body_raw(body, "text/html; charset=utf-8");
    let landing = format!("http://shop.example.test:{pages_port}/landing?utm_source=newsletter&utm_campaign=winter");
    Mock::given(path("/newsletter"))
        .respond_with(html(format!(
            "<!doctype html><title>Newsletter</title><a id=go href=\"{landing}\">Our winter sale</a>"
        )))
        .mount(&pages)
        .await;
    Mock::given(path("/landing"))
        .respond_with(html(format!(
            "<!doctype html><title>Shop</title>
             <script defer data-website-id=\"{tracking_id}\" data-domain=\"shop.example.test\" src=\"{base}/js/script.js\"></script>
             <button id=pricing onclick=\"history.pushState({{}}, '', '/pricing')\">Pricing</button>
             <button id=signup data-fast-goal=\"signup\">Sign up</button>"
        )))
        .mount(&pages)
        .await;

    let (_driver, driver_port) = chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let browser = chromium(driver_port, profile.path(), true).await;

    // A person reads the newsletter, follows its link, looks at the pricing, signs up.
    browser.goto(&format!("http://news.example.test:{pages_port}/newsletter")).await.unwrap();
    browser.find(Locator::Id("go")).await.unwrap().click().await.unwrap();
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Id("signup")).await.unwrap();
    let mut visitor = String::new();
    for _ in 0..50 {
        let cookie = browser
            .execute("return (document.cookie.match(/datafast_visitor_id=([^;]+)/) || [])[1] || ''", vec![])
            .await
            .unwrap();
        visitor = cookie.as_str().unwrap_or_default().to_owned();
        if !visitor.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!visitor.is_empty(), "the script set its visitor cookie");
    browser.find(Locator::Id("pricing")).await.unwrap().click().await.unwrap();
    browser.find(Locator::Id("signup")).await.unwrap().click().await.unwrap();
    let key = admin(&dir, &["apikey", "create", "--website", &site])["key"].as_str().unwrap().to_owned();
    let mut seen = serde_json::Value::Null;
    for _ in 0..100 {
        seen = api(&format!("{base}/api/v1/visitors/{visitor}"), &key).await;
        if seen["data"][0]["activity"]["pageviews"] == 2 && seen["data"][0]["activity"]["goals"][0]["name"] == "signup"
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile_of = &seen["data"][0];
    assert_eq!(profile_of["activity"]["pageviews"], 2, "the landing page and the pushState to /pricing: {seen}");
    assert_eq!(profile_of["identity"]["params"]["utm_source"], "newsletter");
    assert_eq!(profile_of["identity"]["referrer"], "news.example.test", "the newsletter's host is the referrer");

    // They pay through Stripe Checkout: the session's metadata carries the cookie's visitor id.
    let charge = json!({
        "id": "ch_3PwinterSaleCharge0001", "object": "charge", "amount": 4900, "amount_captured": 4900, "amount_refunded": 0,
        "balance_transaction": null, "captured": true, "created": chrono::Utc::now().timestamp() - 60, "currency": "usd",
        "customer": "cus_WinterBuyer", "disputed": false, "livemode": true, "metadata": {}, "paid": true,
        "payment_intent": "pi_3PwinterSaleIntent01", "refunded": false, "status": "succeeded"
    });
    let session = json!({
        "id": "cs_live_winter", "object": "checkout.session", "created": chrono::Utc::now().timestamp() - 90,
        "payment_intent": "pi_3PwinterSaleIntent01", "status": "complete", "mode": "payment",
        "metadata": {"datafast_visitor_id": visitor}
    });
    fake.answer(
        "/v1/charges",
        ResponseTemplate::new(200).set_body_json(stripe_fake::list("/v1/charges", vec![charge])),
    )
    .await;
    fake.answer(
        "/v1/checkout/sessions",
        ResponseTemplate::new(200).set_body_json(stripe_fake::list("/v1/checkout/sessions", vec![session])),
    )
    .await;
    fake.healthy(true, &[(4_900, "usd")]).await;
    let connected = reqwest::Client::new()
        .post(format!("{base}/api/v1/admin/websites/{site}/integrations/stripe"))
        .bearer_auth(&token)
        .json(&json!({"stripeRak": GOOD_KEY}))
        .send()
        .await
        .unwrap();
    assert!(connected.status().is_success(), "{:?}", connected.text().await);
    let mut revenue = serde_json::Value::Null;
    for _ in 0..150 {
        revenue = api(&format!("{base}/api/v1/analytics/campaigns"), &key).await;
        if revenue["data"].as_array().is_some_and(|rows| rows.iter().any(|r| r["revenue"] == 49.0)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let winter =
        revenue["data"].as_array().unwrap().iter().find(|r| r["campaign"]["utm_campaign"] == "winter").cloned();
    assert_eq!(winter.map(|r| r["revenue"].clone()), Some(json!(49.0)), "imported and attributed: {revenue}");

    // The merchant signs in and reads it on the Dashboard, their first page.
    browser.goto(&format!("{base}/login")).await.unwrap();
    fill(&browser, "email", "owner@example.com").await;
    fill(&browser, "password", "correct horse battery").await;
    submit(&browser, "form[action='/login']").await;
    wait_for_text(&browser, "Visitors now").await;
    assert!(browser.current_url().await.unwrap().path().ends_with("/dashboard"), "the Dashboard comes first");
    let row = browser
        .find(Locator::XPath("//tr[td/a[normalize-space(.)='winter (newsletter)']]/td[4]"))
        .await
        .expect("a campaign row for winter (newsletter)");
    assert_eq!(row.text().await.unwrap(), "49.00 USD");
    let source =
        browser.find(Locator::XPath("//tr[td/a[normalize-space(.)='news.example.test']]/td[4]")).await.unwrap();
    assert_eq!(source.text().await.unwrap(), "49.00 USD", "and under its source");
    browser.set_window_size(1280, 2000).await.unwrap();
    shot(&browser, "10-dashboard").await;
    browser.set_window_size(1280, 1000).await.unwrap();

    // By keyboard: Tab to the campaign's link and press Enter: the whole page is filtered by it.
    let link = browser.find(Locator::XPath("//a[normalize-space(.)='winter (newsletter)']")).await.unwrap();
    browser.execute("arguments[0].focus()", vec![serde_json::to_value(&link).unwrap()]).await.unwrap();
    link.send_keys("\u{E007}").await.unwrap();
    wait_for_text(&browser, "Filtered by").await;
    wait_for_text(&browser, "utm campaign: winter").await;
    shot(&browser, "11-dashboard-filtered").await;
    browser.set_window_size(390, 844).await.unwrap();
    // Nothing scrolls sideways: the page is no wider than the screen, and no element spills out of its box (but a
    // chart's date label, centred under its bar, may overhang the bar's slot).
    let overflow = browser
        .execute(
            "const d = document.documentElement; return [d.scrollWidth - d.clientWidth,
               [...document.querySelectorAll('main *')].filter((e) => e instanceof HTMLElement && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1
                  && getComputedStyle(e).overflowX == 'visible' && !e.closest('.x-axis')).map((e) => e.tagName + '.' + e.className)]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, json!([0, []]), "the dashboard fits a phone screen");
    browser.set_window_size(390, 2600).await.unwrap();
    shot(&browser, "12-dashboard-phone").await;
    browser.close().await.unwrap();

    // A robot (navigator.webdriver, a headless user agent) on the same page sends nothing.
    let robot_profile = tempfile::tempdir().unwrap();
    let robot = chromium(driver_port, robot_profile.path(), false).await;
    robot.goto(&landing).await.unwrap();
    robot.wait().at_most(Duration::from_secs(10)).for_element(Locator::Id("signup")).await.unwrap();
    robot.find(Locator::Id("signup")).await.unwrap().click().await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cookie = robot.execute("return document.cookie", vec![]).await.unwrap();
    assert!(!cookie.as_str().unwrap_or_default().contains("datafast_visitor_id"), "no cookie for a robot: {cookie}");
    let overview = api(&format!("{base}/api/v1/analytics/overview"), &key).await;
    assert_eq!(overview["data"][0]["visitors"], 1, "only the person was counted: {overview}");
    robot.close().await.unwrap();
}
