//! The Dashboard: the install card until the first event, then visitors and revenue by source, campaign,
//! landing page, country and device; rows that filter the page; ranges; who may see it.

use std::net::SocketAddr;

use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};

use crate::browser::{location, text};
use crate::helpers::TestApp;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/120.0.0.0 Safari/537.36";

async fn event(app: &TestApp, tracking_id: &str, visitor: &str, href: &str) {
    let body = json!({"websiteId": tracking_id, "href": href, "referrer": "https://news.ycombinator.com/item?id=1",
                      "visitorId": visitor, "sessionId": format!("s-{visitor}"), "type": "pageview"});
    let remote: SocketAddr = "203.0.113.9:40000".parse().unwrap();
    let res = app
        .client
        .post("/api/events")
        .header(ContentType::JSON)
        .header(Header::new("User-Agent", CHROME))
        .remote(remote)
        .body(body.to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
}

/// As Tera escapes text into a page.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;").replace('/', "&#x2F;").replace('"', "&quot;")
}

#[rocket::async_test]
async fn from_waiting_for_the_first_event_to_revenue_by_source() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.login("me@example.com").await;
    let home = app.client.get("/").dispatch().await;
    let dashboard = format!("/websites/{site}/dashboard");
    assert_eq!((home.status(), location(&home)), (Status::SeeOther, dashboard.clone()), "one website: its dashboard");

    let page = text(app.client.get(dashboard.clone()).dispatch().await).await;
    assert!(page.contains("Waiting for the first event from shop.example.com"));
    let tracking_id: String =
        app.state().db.with_conn(|c| Ok(c.query_row("SELECT tracking_id FROM websites", [], |r| r.get(0))?)).unwrap();
    assert!(page.contains(&tracking_id), "the snippet, ready to copy: {page}");
    let live: Value =
        serde_json::from_str(&text(app.client.get(format!("{dashboard}/live")).dispatch().await).await).unwrap();
    assert_eq!(live, json!({"visitorsNow": 0, "hasEvents": false}));

    event(&app, &tracking_id, "v-news", "https://shop.example.com/pricing?utm_source=newsletter&utm_campaign=launch")
        .await;
    event(&app, &tracking_id, "v-other", "https://shop.example.com/").await;
    event(&app, &tracking_id, "v-blog", "https://blog.shop.example.com/").await;
    let key = app.website_key(&site);
    let payment = json!({"amount": 100, "currency": "USD", "transaction_id": "t1", "datafast_visitor_id": "v-news"});
    let reply = app.send(rocket::http::Method::Post, "/api/v1/payments", Some(&key), Some(&payment.to_string())).await;
    assert_eq!(reply.status, Status::Ok);

    let live: Value =
        serde_json::from_str(&text(app.client.get(format!("{dashboard}/live")).dispatch().await).await).unwrap();
    assert_eq!(live, json!({"visitorsNow": 3, "hasEvents": true}));
    let page = text(app.client.get(dashboard.clone()).dispatch().await).await;
    assert!(!page.contains("Waiting for the first event"), "the install card is gone");
    assert!(page.contains("launch (newsletter)"), "the campaign row");
    assert!(page.contains("100.00 USD"), "its revenue");
    assert!(page.contains("Hacker News"), "the source, named");
    assert!(page.contains(&escaped("/pricing")), "the landing page");
    // A landing page on another host than the website's domain is named with its host, and filters by both.
    assert!(page.contains(&escaped("blog.shop.example.com/")), "the other host's page, named with its host");
    let blog = format!("{dashboard}?filter_entry_page=is%3A%2F&filter_hostname=is%3Ablog.shop.example.com");
    assert!(page.contains(&escaped(&blog)), "{page}");
    let filter = format!("{dashboard}?filter_utm_campaign=is%3Alaunch");
    assert!(page.contains(&escaped(&filter)), "a row links to the page filtered by it");

    let filtered = text(app.client.get(filter).dispatch().await).await;
    assert!(filtered.contains("Filtered by"));
    assert!(filtered.contains("<div class=\"lead\"><dt>Visitors</dt><dd>1</dd></div>"), "one visitor came with it");
    assert!(filtered.contains("<dd>100.00 USD</dd>"));

    // The date form carries the filters as they were, an is_not one included.
    let negated = text(app.client.get(format!("{dashboard}?filter_country=is_not%3ADE")).dispatch().await).await;
    assert!(negated.contains("name=\"filter_country\" value=\"is_not:DE\""), "{negated}");
    let bad = app.client.get(format!("{dashboard}?start=2026-02-01&end=2026-01-01")).dispatch().await;
    assert_eq!(bad.status(), Status::Ok);
    assert!(
        text(bad).await.contains("The start date must not be after the end date"),
        "the range's error, on the page"
    );
    let unknown = app.client.get(format!("{dashboard}?filter_planet=mars")).dispatch().await;
    assert_eq!(unknown.status(), Status::BadRequest);
    assert!(text(unknown).await.contains("Unknown query parameter filter_planet"));
}

#[rocket::async_test]
async fn viewers_see_it_and_strangers_do_not() {
    let app = TestApp::new().await;
    let owner = app.user_with_password("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let viewer = app.user_with_password("viewer@example.com");
    app.member(&site, &viewer, revlink::domain::Role::Viewer);
    let stranger = app.user_with_password("stranger@example.com");
    let _ = stranger;
    app.login("viewer@example.com").await;
    let page = app.client.get(format!("/websites/{site}/dashboard?range=all")).dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    app.client.post("/logout").dispatch().await;
    app.login("stranger@example.com").await;
    let page = app.client.get(format!("/websites/{site}/dashboard")).dispatch().await;
    assert!(matches!(page.status(), Status::NotFound | Status::Forbidden), "{}", page.status());
}
