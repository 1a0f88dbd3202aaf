//! The import's progress on the integrations page, and the revenue page.

use rocket::http::{Method, Status};

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
    assert!(revenue.contains(r#"<p class="figure">29.00 USD</p>"#), "net of the imported charge leads: {revenue}");
    assert!(revenue.contains("<code>0b5c1d2e…b2c3</code>"), "its visitor, cut");
    assert!(revenue.contains("<code>0b5c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3</code></details>"), "and whole, one tap away");
    assert!(revenue.contains("<svg") && revenue.contains("class=\"net\""), "the chart");
    let bad = text(app.client.get(format!("/websites/{site}/revenue?start=yesterday")).dispatch().await).await;
    assert!(
        bad.contains("role=\"alert\" id=\"range-error\">Pick a start date"),
        "a bad range says what to type: {bad}"
    );
    assert!(bad.contains(r#"value="yesterday""#), "and the input keeps what was typed");
}

/// Records `n` payments through the Payments API, one a day back from `2026-03-31`, the first `refunded` ones
/// refunded and every third a renewal.
async fn pay(app: &TestApp, key: &str, n: u32, refunded: u32) {
    for i in 0..n {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap() - chrono::Days::new(u64::from(i));
        let body = serde_json::json!({"amount": 10, "currency": "USD", "transaction_id": format!("tx_{i:03}"),
                                      "refunded": i < refunded, "renewal": i % 3 == 2,
                                      "timestamp": format!("{day}T12:00:00Z")});
        let reply = app.send(Method::Post, "/api/v1/payments", Some(key), Some(&body.to_string())).await;
        assert_eq!(reply.status.code, 200, "{:?}", reply.body);
    }
}

#[rocket::async_test]
async fn the_chart_buckets_the_range_and_the_payments_page_and_filter() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.login("me@example.com").await;
    let page = format!("/websites/{site}/revenue");

    let empty = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(
        empty.contains("No revenue yet")
            && empty.contains(&format!(r#"class="button" href="/websites/{site}/integrations">Connect Stripe"#)),
        "{empty}"
    );
    assert!(!empty.contains("<svg"), "no empty chart before the first payment");

    let key = app.website_key(&site);
    pay(&app, &key, 30, 2).await;
    let march = format!("{page}?start=2026-03-01&end=2026-03-31");
    let shown = text(app.client.get(march.clone()).dispatch().await).await;
    assert!(shown.contains(r#"<p class="figure">280.00 USD</p>"#), "30 × 10 USD less two refunds: {shown}");
    assert_eq!(shown.matches(r#"<g class="bucket"#).count(), 31, "a month is drawn by day");
    assert!(
        shown
            .contains(r#"aria-label="Sun 29 Mar 2026: 10.00 USD net (10.00 USD gross, 0.00 USD refunded), 1 payment""#),
        "{shown}"
    );
    assert!(
        shown.contains(
            "<strong>Tue 31 Mar 2026</strong> <span>0.00 USD net (10.00 USD gross, 10.00 USD refunded), 1 payment"
        ),
        "the readout starts at the last day"
    );
    assert!(
        shown.contains(r#"tabindex="0" role="img" aria-label="Tue 31 Mar 2026"#),
        "the last day is the chart's keyboard stop"
    );
    assert!(shown.contains(r#"<li class="at0">10</li><li class="at1">7.5</li>"#), "10 USD a day: steps of 2.5 to 10");
    assert!(shown.contains(r#"<time datetime="2026-03-31T12:00:00.000Z""#), "times are readable and exact");
    assert_eq!(shown.matches(r#"<td data-label="Paid">"#).count(), 25, "25 rows a page");
    let older =
        between(&shown, r#"<a href=""#, r#"#payments">Older payments"#).replace("&amp;", "&").replace("&#x2F;", "/");
    assert!(older.contains("after="), "{older}");
    let second = text(app.client.get(older).dispatch().await).await;
    assert_eq!(second.matches(r#"<td data-label="Paid">"#).count(), 5, "the last five of thirty");
    assert!(second.contains("← Newest") && !second.contains("Older payments"));

    let weekly = text(app.client.get(format!("{march}&by=week")).dispatch().await).await;
    assert_eq!(weekly.matches(r#"<g class="bucket"#).count(), 6, "23 Feb to 30 Mar: six weeks");
    let yearly = text(app.client.get(format!("{page}?range=12mo")).dispatch().await).await;
    assert!(matches!(yearly.matches(r#"<g class="bucket"#).count(), 12 | 13), "a year is drawn by month");

    let refunded = text(app.client.get(format!("{march}&kind=refunded")).dispatch().await).await;
    assert_eq!(refunded.matches(r#"<td data-label="Paid">"#).count(), 2, "the two refunded payments");
    let renewals = text(app.client.get(format!("{march}&kind=renewal")).dispatch().await).await;
    assert_eq!(renewals.matches(r#"<td data-label="Paid">"#).count(), 10);
    let all_time = text(app.client.get(format!("{page}?range=all")).dispatch().await).await;
    assert!(all_time.contains("2026-03-02 to "), "all time starts at the first payment: {all_time}");
    let bad_page = text(app.client.get(format!("{march}&after=nonsense")).dispatch().await).await;
    assert!(bad_page.contains("here are the newest") && bad_page.matches(r#"<td data-label="Paid">"#).count() == 25);
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let stop = text.find(end).unwrap_or_else(|| panic!("no {end:?} in {text}"));
    let from = text[..stop].rfind(start).unwrap_or_else(|| panic!("no {start:?} before {end:?}")) + start.len();
    &text[from..stop]
}
