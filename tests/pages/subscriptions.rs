//! The Revenue page's Subscriptions section: MRR, its chart and the movements table once subscriptions are
//! imported; what granting `rak_subscription_read` adds when the key may not list them.

use chrono::{Datelike, Months, NaiveDate, Utc};
use rocket::http::Method;

use revlink::db::subscriptions;
use revlink::domain::ObjectId;
use revlink::domain::mrr::plan::{Interval, Item, UsageType};
use revlink::domain::mrr::{NewSubscription, Plan, Status};

use crate::browser::text;
use crate::helpers::TestApp;

/// Noon UTC on the 2nd of the month `back` months before this one.
fn months_back(back: u32) -> i64 {
    let this = NaiveDate::from_ymd_opt(Utc::now().year(), Utc::now().month(), 2).unwrap();
    (this - Months::new(back)).and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp()
}

fn subscription(id: &str, created: i64, unit_amount: i64, quantity: i64, ended_at: Option<i64>) -> NewSubscription {
    let item = Item {
        price: "price_basic".into(),
        unit_amount: Some(unit_amount),
        interval: Interval::Month,
        interval_count: 1,
        usage_type: UsageType::Licensed,
        quantity,
    };
    NewSubscription {
        id: id.into(),
        customer: format!("cus_{id}"),
        currency: "USD".into(),
        status: if ended_at.is_some() { Status::Canceled } else { Status::Active },
        created,
        start_date: Some(created),
        trial_start: None,
        trial_end: None,
        cancel_at: None,
        canceled_at: ended_at,
        ended_at,
        cancel_at_period_end: false,
        current_period_start: Some(created),
        current_period_end: None,
        plan: Plan::new(vec![item], vec![]),
    }
}

/// A signed-in owner's website with one payment (the Revenue page's sections show once there is revenue).
async fn site_with_a_payment(app: &TestApp) -> ObjectId {
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.login("me@example.com").await;
    let body = serde_json::json!({"amount": 10, "currency": "USD", "transaction_id": "tx_1"}).to_string();
    let reply = app.send(Method::Post, "/api/v1/payments", Some(&app.website_key(&site)), Some(&body)).await;
    assert_eq!(reply.status.code, 200, "{}", reply.body);
    site
}

/// The subscriptions as an import that was allowed to list them stored them at `now`.
fn stored(app: &TestApp, site: &ObjectId, subs: &[NewSubscription], now: i64) {
    app.state()
        .db
        .with_conn(|c| {
            subscriptions::upsert_page(c, site, subs, now)?;
            subscriptions::set_available(c, site, true, None, now)
        })
        .unwrap();
}

#[rocket::async_test]
async fn the_revenue_page_shows_mrr_its_chart_and_the_movements() {
    let app = TestApp::new().await;
    let site = site_with_a_payment(&app).await;
    let subs = [
        subscription("a", months_back(3), 1000, 2, None),
        subscription("b", months_back(2), 3000, 1, None),
        subscription("c", months_back(3), 500, 1, Some(months_back(1))),
    ];
    let now = Utc::now().timestamp();
    stored(&app, &site, &subs, now);
    let page = text(app.client.get(format!("/websites/{site}/revenue")).dispatch().await).await;
    let section = &page[page.find(r#"<h2 id="subscriptions-title">"#).expect("the section")
        ..page.find(r#"<h2 id="payments">"#).unwrap()];
    assert!(
        section.contains(r#"<h3>MRR</h3><p class="figure">50.00 USD</p><p class="muted">ARR 600.00 USD</p>"#),
        "{section}"
    );
    assert!(
        section.contains("<dt>Active subscribers</dt><dd>2</dd>") && section.contains("<dd>25.00 USD</dd>"),
        "ARPU"
    );
    assert!(section.contains(r#"id="mrr-chart-readout""#) && section.contains(r#"data-readout="mrr-chart-readout""#));
    assert!(page.contains(r#"id="chart-readout""#), "the revenue chart keeps its ids");
    assert_eq!(section.matches(r#"<g class="bucket"#).count(), 12, "twelve months");
    assert!(section.contains("50.00 USD MRR, −5.00 USD churned, 2 subscribers"), "last month's bar: {section}");
    let table = &section[section.find("<table class=\"stack movements\">").expect("the movements")..];
    assert!(table.contains("<caption>Each month's movements, in USD</caption>"), "the caption names the currency");
    let cells = table.matches("<td").count();
    assert!(cells >= 12 * 9, "{cells}");
    assert_eq!(table.matches(" data-label=").count(), cells, "every cell is labelled for the stacked layout");
    assert!(table.contains(r#"<td class="num" data-label="New">+30.00</td>"#), "b started two months back");
    assert!(
        section.contains(r#"<td data-label="Source">Not attributed</td><td data-label="MRR now">50.00 USD</td>"#),
        "by source: none of these customers paid through a visitor"
    );
}

#[rocket::async_test]
async fn without_subscription_read_the_section_says_what_granting_it_adds() {
    let app = TestApp::new().await;
    let site = site_with_a_payment(&app).await;
    let page = text(app.client.get(format!("/websites/{site}/revenue")).dispatch().await).await;
    assert!(page.contains("Connect Stripe on"), "not connected: where to connect");
    let reason = "The key lacks the rak_subscription_read permission";
    app.state().db.with_conn(|c| subscriptions::set_available(c, &site, false, Some(reason), 1)).unwrap();
    let page = text(app.client.get(format!("/websites/{site}/revenue")).dispatch().await).await;
    assert!(page.contains(&format!("Subscriptions are not available: {reason}.")), "{page}");
    assert!(page.contains("<code>rak_subscription_read</code>) in Stripe's dashboard adds MRR, ARR"));
    assert!(!page.contains("mrr-chart"), "no empty chart");
}

#[rocket::async_test]
async fn the_general_page_switches_the_dashboards_main_figure_to_mrr() {
    let app = TestApp::new().await;
    let site = site_with_a_payment(&app).await;
    let csrf = app.login("me@example.com").await;
    let general = text(app.client.get(format!("/websites/{site}")).dispatch().await).await;
    assert!(general.contains(r#"<option value="revenue" selected>Revenue of the range</option>"#), "{general}");
    let form = [
        ("name", "Shop"),
        ("domain", "shop.example.com"),
        ("timezone", "UTC"),
        ("currency", "USD"),
        ("revenue_metric", "mrr"),
        ("csrf_token", csrf.as_str()),
    ];
    let saved = app.post_form(&format!("/websites/{site}"), &form).await;
    assert_eq!(saved.status(), rocket::http::Status::SeeOther);
    let general = text(app.client.get(format!("/websites/{site}")).dispatch().await).await;
    assert!(general.contains(r#"<option value="mrr" selected>MRR now</option>"#));

    let dashboard = format!("/websites/{site}/dashboard");
    let shown = text(app.client.get(dashboard.clone()).dispatch().await).await;
    assert!(
        shown.contains(r#"<div class="lead"><dt>Revenue</dt>"#) && shown.contains("MRR leads here once"),
        "{shown}"
    );
    let now = Utc::now().timestamp();
    let subs = [subscription("a", months_back(1), 4200, 1, None)];
    stored(&app, &site, &subs, now);
    let shown = text(app.client.get(dashboard).dispatch().await).await;
    assert!(
        shown.contains(r#"<div class="lead"><dt>MRR</dt><dd>42.00 USD <span class="muted">ARR 504.00 USD</span>"#),
        "{shown}"
    );
    assert!(shown.contains("<div><dt>Revenue</dt>") && !shown.contains("MRR leads here once"));
}
