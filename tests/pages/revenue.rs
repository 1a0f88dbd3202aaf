//! The import's progress on the integrations page, and the revenue page.

use rocket::http::Status;

use crate::browser::{location, text};
use crate::helpers::TestApp;

#[rocket::async_test]
async fn the_import_shows_its_progress_and_the_revenue_page_its_payments() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.stripe.healthy(true, &[(500, "usd")]).await;
    let csrf = app.login("me@example.com").await;
    let page = format!("/websites/{site}/integrations");
    let connect = format!("{page}/stripe");
    app.post_form(&connect, &[("stripeRak", "rk_live_51AbcdefGhijklmnopQrst"), ("csrf_token", &csrf)]).await;
    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(shown.contains("Revenue import") && shown.contains("Waiting to start") && shown.contains("Sync now"));

    let started = app.post_form(&format!("{page}/stripe/sync"), &[("csrf_token", &csrf)]).await;
    assert_eq!((started.status(), location(&started)), (Status::SeeOther, page.clone()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let shown = loop {
        let shown = text(app.client.get(page.clone()).dispatch().await).await;
        if shown.contains("Up to date") {
            break shown;
        }
        assert!(std::time::Instant::now() < deadline, "the import did not finish: {shown}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(shown.contains("1 payment imported"), "{shown}");

    let revenue =
        text(app.client.get(format!("/websites/{site}/revenue?start=2024-05-01&end=2024-05-31")).dispatch().await)
            .await;
    assert!(revenue.contains("<dd><strong>29.00 USD</strong></dd>"), "net of the imported charge: {revenue}");
    assert!(revenue.contains("<code>0b5c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3</code>"), "its visitor");
    assert!(revenue.contains("<svg") && revenue.contains("class=\"net\""), "the daily chart");
    let bad = text(app.client.get(format!("/websites/{site}/revenue?start=yesterday")).dispatch().await).await;
    assert!(bad.contains("role=\"alert\">start must be a date such as "), "a bad range says what to type: {bad}");
}
