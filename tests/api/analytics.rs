//! The Website analytics API (contract §5) against a known fixture of visits and payments: every route, the
//! filters, the totals that must add up, revenue that agrees with the revenue summary, and who may ask.

use rocket::http::Method;
use serde_json::{Value, json};

use revlink::db::visitors;
use revlink::domain::ObjectId;
use revlink::domain::event::EventInput;
use revlink::domain::site_hosts::SiteHosts;
use revlink::domain::user_agent;
use revlink::domain::visit::{Acquisition, NewVisit};

use crate::helpers::{TestApp, assert_error};

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/120.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
                      Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

fn ms(stamp: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(stamp).unwrap().timestamp_millis()
}

/// One pageview: who, when, where, from where, with what, from which country.
struct Hit<'a>(&'a str, &'a str, &'a str, &'a str, Option<&'a str>, &'a str, Option<&'a str>);

/// Stores one pageview as the tracking endpoint would, at a chosen time.
fn visit(app: &TestApp, site: &ObjectId, hit: Hit<'_>) {
    let Hit(visitor, session, at, href, referrer, agent, country) = hit;
    let body = json!({"websiteId": "dfid_x", "href": href, "referrer": referrer, "type": "pageview"});
    let event = EventInput::parse(body.to_string().as_bytes()).unwrap();
    let acquisition = Acquisition::derive(
        &event,
        &SiteHosts::new("shop.example", ""),
        user_agent::describe(agent),
        country.map(str::to_owned),
    );
    let visit = NewVisit::pageview(site.clone(), visitor.into(), session.into(), ms(at), acquisition);
    app.state().db.with_conn(|c| visitors::record(c, &visit)).unwrap();
}

struct Fixture {
    app: TestApp,
    site: ObjectId,
    key: String,
}

/// Three visitors in May 2026 (C first came in April), five payments (one refunded, one of a visitor revlink
/// never saw, one attributed only through an identified email).
async fn fixture() -> Fixture {
    let app = TestApp::new().await;
    let owner = app.user("owner@shop.example");
    let site = app.website(&owner, "shop.example");
    let key = app.website_key(&site);
    let google = Some("https://www.google.com/");
    visit(
        &app,
        &site,
        Hit(
            "A",
            "a1",
            "2026-05-01T10:00:00Z",
            "https://shop.example/pricing?utm_source=newsletter&utm_campaign=may",
            google,
            CHROME,
            Some("US"),
        ),
    );
    visit(&app, &site, Hit("A", "a1", "2026-05-01T10:05:00Z", "https://shop.example/buy", None, CHROME, Some("US")));
    visit(&app, &site, Hit("A", "a2", "2026-05-03T09:00:00Z", "https://shop.example/", None, CHROME, Some("US")));
    visit(&app, &site, Hit("B", "b1", "2026-05-02T12:00:00Z", "https://shop.example/", None, IPHONE, Some("DE")));
    visit(&app, &site, Hit("C", "c1", "2026-04-20T12:00:00Z", "https://shop.example/blog", None, CHROME, None));
    visit(&app, &site, Hit("C", "c2", "2026-05-02T20:00:00Z", "https://shop.example/blog", None, CHROME, None));
    for (tx, amount, visitor, email, at, refunded) in [
        ("t1", 100.0, Some("A"), None, "2026-05-03T10:00:00Z", false),
        ("t2", 50.0, Some("B"), None, "2026-05-02T13:00:00Z", false),
        ("t3", 25.0, Some("B"), None, "2026-05-02T14:00:00Z", true),
        ("t4", 30.0, Some("nobody-we-saw"), None, "2026-05-04T10:00:00Z", false),
        ("t5", 20.0, None, Some("Carol@Example.com"), "2026-05-05T10:00:00Z", false),
    ] {
        let body = json!({"amount": amount, "currency": "USD", "transaction_id": tx, "datafast_visitor_id": visitor,
                          "email": email, "refunded": refunded, "timestamp": at});
        let reply = app.send(Method::Post, "/api/v1/payments", Some(&key), Some(&body.to_string())).await;
        assert_eq!(reply.status.code, 200, "{}", reply.body);
    }
    let identify = json!({"datafast_visitor_id": "C", "user_id": "user-3", "email": "carol@example.com"});
    let reply = app.send(Method::Post, "/api/v1/identify", Some(&key), Some(&identify.to_string())).await;
    assert_eq!(reply.status.code, 200, "{}", reply.body);
    assert_eq!(reply.body["profileId"], "C");
    Fixture { app, site, key }
}

const MAY: &str = "startAt=2026-05-01&endAt=2026-05-31";

impl Fixture {
    async fn get(&self, path: &str) -> Value {
        let reply = self.app.get(path, &self.key).await;
        assert_eq!(reply.status.code, 200, "{path}: {}", reply.body);
        reply.body
    }

    async fn rows(&self, path: &str) -> Vec<Value> {
        self.get(path).await["data"].as_array().unwrap().clone()
    }
}

#[rocket::async_test]
async fn overview_counts_each_visitor_once_and_revenue_by_the_summarys_rule() {
    let f = fixture().await;
    let o = &f.get(&format!("/api/v1/analytics/overview?{MAY}")).await["data"][0];
    assert_eq!(o["visitors"], 3, "A twice, B, and C (first seen in April) once: {o}");
    assert_eq!(o["sessions"], 4);
    assert_eq!(o["payments"], 5);
    assert_eq!(o["revenue"], 200.0, "100 + 50 + 0 (refunded) + 30 + 20");
    assert_eq!(o["currency"], "$");
    assert_eq!(o["conversion_rate"], 100.0, "A, B and C (through the email) paid");
    assert_eq!(o["revenue_per_visitor"], 66.67);
    assert_eq!(o["bounce_rate"], 75.0, "a1 had two pageviews, the other three one");
    assert_eq!(o["avg_session_duration"], 75.0, "300 s over 4 sessions");
    // The revenue summary of the same days says the same.
    let token = {
        let owner = f.app.user("reader@shop.example");
        f.app.member(&f.site, &owner, revlink::domain::Role::Viewer);
        f.app.token(&owner, &["analytics:read"], &[])
    };
    let reply =
        f.app.get(&format!("/api/v1/admin/websites/{}/revenue?start=2026-05-01&end=2026-05-31", f.site), &token).await;
    assert_eq!(reply.body["data"][0]["net"], 20_000, "{}", reply.body);
    // All time takes C's April session in too, still one visitor each.
    let all = &f.get("/api/v1/analytics/overview").await["data"][0];
    assert_eq!((all["visitors"].as_u64(), all["sessions"].as_u64()), (Some(3), Some(5)));
}

#[rocket::async_test]
async fn breakdowns_add_up_to_the_overview_and_name_unknown_visitors() {
    let f = fixture().await;
    let rows = f.rows(&format!("/api/v1/analytics/referrers?{MAY}")).await;
    let by = |name: &str| {
        rows.iter().find(|r| r["referrer"] == name).cloned().unwrap_or_else(|| panic!("{name} in {rows:?}"))
    };
    assert_eq!((by("Google")["visitors"].clone(), by("Google")["revenue"].clone()), (json!(1), json!(100.0)));
    assert_eq!((by("Direct/None")["visitors"].clone(), by("Direct/None")["revenue"].clone()), (json!(2), json!(70.0)));
    assert_eq!(
        (by("Unknown visitor")["visitors"].clone(), by("Unknown visitor")["payments"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(rows[0]["referrer"], "Direct/None", "most visitors first");
    let revenue: f64 = rows.iter().map(|r| r["revenue"].as_f64().unwrap()).sum();
    assert!((revenue - 200.0).abs() < 1e-9, "rows add up to the overview's revenue");

    let campaigns = f.rows(&format!("/api/v1/analytics/campaigns?{MAY}")).await;
    let may = campaigns.iter().find(|r| r["campaign"]["utm_campaign"] == "may").unwrap();
    assert_eq!((may["campaign"]["utm_source"].clone(), may["revenue"].clone()), (json!("newsletter"), json!(100.0)));

    let pages = f.rows(&format!("/api/v1/analytics/pages?{MAY}")).await;
    let pricing = pages.iter().find(|r| r["path"] == "/pricing").unwrap();
    assert_eq!((pricing["hostname"].clone(), pricing["visitors"].clone()), (json!("shop.example"), json!(1)));

    let countries = f.rows(&format!("/api/v1/analytics/countries?{MAY}")).await;
    let de = countries.iter().find(|r| r["country"] == "DE").unwrap();
    assert_eq!((de["visitors"].clone(), de["revenue"].clone()), (json!(1), json!(50.0)));
    assert!(countries.iter().any(|r| r["country"].is_null() && r["visitors"] == 1), "C's country is unknown");

    let devices = f.rows(&format!("/api/v1/analytics/devices?{MAY}")).await;
    assert!(devices.iter().any(|r| r["device"] == "mobile" && r["visitors"] == 1));
    let systems = f.rows(&format!("/api/v1/analytics/operating-systems?{MAY}")).await;
    assert!(systems.iter().all(|r| r.get("operating_system").is_some()));
    for route in ["regions", "cities", "browsers", "hostnames"] {
        let body = f.get(&format!("/api/v1/analytics/{route}?{MAY}")).await;
        assert_eq!(body["pagination"]["offset"], 0, "{route}");
    }
}

#[rocket::async_test]
async fn filters_narrow_visitors_and_their_payments() {
    let f = fixture().await;
    let o = &f.get(&format!("/api/v1/analytics/overview?{MAY}&filter_utm_source=newsletter")).await["data"][0];
    assert_eq!(
        (o["visitors"].clone(), o["revenue"].clone(), o["payments"].clone()),
        (json!(1), json!(100.0), json!(1))
    );
    let o = &f.get(&format!("/api/v1/analytics/overview?{MAY}&filter_country=is_not:de")).await["data"][0];
    assert_eq!(o["visitors"], 2, "A and C (no country is not DE): {o}");
    assert_eq!(o["revenue"], 120.0, "the unknown visitor's payment matches no filter");
    let o = &f.get(&format!("/api/v1/analytics/overview?{MAY}&filter_page=/buy")).await["data"][0];
    assert_eq!(o["visitors"], 1, "only A viewed /buy");
    let o =
        &f.get(&format!("/api/v1/analytics/overview?{MAY}&filter_device=mobile&filter_entry_page=/")).await["data"][0];
    assert_eq!((o["visitors"].clone(), o["revenue"].clone()), (json!(1), json!(50.0)));
}

#[rocket::async_test]
async fn the_series_counts_visitors_per_local_day_with_totals() {
    let f = fixture().await;
    let body = f.get("/api/v1/analytics/timeseries?startAt=2026-05-01&endAt=2026-05-05").await;
    let days = body["data"].as_array().unwrap();
    let names: Vec<&str> = days.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05"]);
    let visitors: Vec<u64> = days.iter().map(|d| d["visitors"].as_u64().unwrap()).collect();
    assert_eq!(visitors, [1, 2, 1, 0, 0]);
    assert_eq!(days[1]["revenueBreakdown"], json!({"new": 75.0, "renewal": 0.0, "refund": 25.0}));
    assert_eq!(days[2]["revenue"], 100.0);
    assert_eq!(body["totals"]["visitors"], 3, "the range's visitors, not the sum of days");
    assert_eq!(body["totals"]["revenue"], 200.0);
    assert_eq!(
        (body["interval"].clone(), body["timezone"].clone(), body["currency"].clone()),
        (json!("day"), json!("UTC"), json!("$"))
    );
    // In Kolkata (UTC+5:30) C's 20:00 UTC session is on the 3rd.
    let body = f
        .get("/api/v1/analytics/timeseries?startAt=2026-05-02&endAt=2026-05-03&timezone=Asia/Kolkata&fields=visitors")
        .await;
    let days = body["data"].as_array().unwrap();
    assert_eq!(days[1], json!({"name": "2026-05-03", "timestamp": "2026-05-03T00:00:00+05:30", "visitors": 2}));
    let months = f.get("/api/v1/analytics/timeseries?interval=month").await;
    assert_eq!(months["data"][0]["name"], "2026-04", "all time starts at the first visit");
}

#[rocket::async_test]
async fn goals_visitors_realtime_and_metadata() {
    let f = fixture().await;
    let goal =
        json!({"datafast_visitor_id": "A", "name": "Newsletter_Signup", "metadata": {"plan": "pro", "seats": 3}});
    let reply = f.app.send(Method::Post, "/api/v1/goals", Some(&f.key), Some(&goal.to_string())).await;
    assert_eq!(reply.status.code, 200, "{}", reply.body);
    assert_eq!(reply.body["data"][0]["message"], "Custom event created successfully");
    let unknown = json!({"datafast_visitor_id": "Z", "name": "signup"});
    let reply = f.app.send(Method::Post, "/api/v1/goals", Some(&f.key), Some(&unknown.to_string())).await;
    assert_error(&reply, 404, "No visitor Z on this website: a goal needs a visitor with a pageview");
    let goals = f.rows("/api/v1/analytics/goals").await;
    assert_eq!(goals, vec![json!({"goal": "newsletter_signup", "completions": 1, "visitors": 1})]);
    let filtered = f.rows("/api/v1/analytics/goals?filter_country=DE").await;
    assert!(filtered.is_empty());
    let o = &f.get("/api/v1/analytics/overview?filter_goal=newsletter_signup").await["data"][0];
    assert_eq!(o["visitors"], 1);

    let a = &f.get("/api/v1/visitors/A").await["data"][0];
    assert_eq!(a["identity"]["params"], json!({"utm_source": "newsletter", "utm_campaign": "may"}));
    assert_eq!((a["identity"]["country"].clone(), a["identity"]["device"].clone()), (json!("US"), json!("desktop")));
    assert_eq!((a["activity"]["visits"].clone(), a["activity"]["pageviews"].clone()), (json!(2), json!(3)));
    assert_eq!(a["activity"]["payments"][0]["amount"], 100.0);
    assert_eq!(a["activity"]["goals"][0]["metadata"], json!({"plan": "pro", "seats": "3"}));
    let c = &f.get("/api/v1/visitors/C").await["data"][0];
    assert_eq!(c["activity"]["payments"][0]["amount"], 20.0, "the email C gave attributes t5");
    assert_eq!(c["identity"]["userId"], "user-3");
    let reply = f.app.get("/api/v1/visitors/nobody", &f.key).await;
    assert_error(&reply, 404, "No visitor nobody on this website");

    assert_eq!(f.get("/api/v1/analytics/realtime").await["data"][0]["visitors"], 0, "the fixture is in the past");
    let meta = &f.get("/api/v1/analytics/metadata").await["data"][0];
    assert_eq!(*meta, json!({"domain": "shop.example", "timezone": "UTC", "name": "Site", "currency": "USD"}));
}

#[rocket::async_test]
async fn a_payment_before_its_visitor_is_joined_when_the_visitor_appears() {
    let f = fixture().await;
    let early = json!({"amount": 9.0, "currency": "USD", "transaction_id": "t6", "datafast_visitor_id": "D",
                       "timestamp": "2026-05-06T10:00:00Z"});
    f.app.send(Method::Post, "/api/v1/payments", Some(&f.key), Some(&early.to_string())).await;
    let unknown =
        |rows: &[Value]| rows.iter().find(|r| r["country"] == "Unknown visitor").map(|r| r["revenue"].clone());
    assert_eq!(unknown(&f.rows(&format!("/api/v1/analytics/countries?{MAY}")).await), Some(json!(39.0)));
    visit(&f.app, &f.site, Hit("D", "d1", "2026-05-07T10:00:00Z", "https://shop.example/", None, CHROME, Some("FR")));
    let rows = f.rows(&format!("/api/v1/analytics/countries?{MAY}")).await;
    assert_eq!(unknown(&rows), Some(json!(30.0)));
    assert!(rows.iter().any(|r| r["country"] == "FR" && r["revenue"] == 9.0));
}

#[rocket::async_test]
async fn bad_questions_get_clear_answers_and_access_is_checked() {
    let f = fixture().await;
    for (query, message) in [
        ("startAt=2026-05-01", "Send both startAt and endAt, or neither (all time)"),
        ("limit=0", "limit must be a whole number from 1 to 1000"),
        ("filter_planet=mars", "Unknown query parameter filter_planet"),
        ("fields=visitors,colour", "Unknown field colour"),
        ("timezone=Nowhere", "timezone must be an IANA time zone such as Europe/Paris or America/New_York"),
    ] {
        let reply = f.app.get(&format!("/api/v1/analytics/referrers?{query}"), &f.key).await;
        assert_eq!(reply.status.code, 400, "{query}");
        assert!(reply.message().starts_with(message), "{query}: {}", reply.message());
    }
    let reply = f.app.get(&format!("/api/v1/analytics/timeseries?interval=hour&{MAY}"), &f.key).await;
    assert_eq!(reply.status.code, 200, "a month of hours is fine: {}", reply.body);
    assert_eq!(reply.body["data"].as_array().unwrap().len(), 31 * 24);
    let reply = f.app.get("/api/v1/analytics/timeseries?interval=hour", &f.key).await;
    assert_error(&reply, 400, "A series has at most 2000 buckets: choose a larger interval or a shorter range");
    let page = f.get("/api/v1/analytics/referrers?limit=1&offset=1&fields=referrer").await;
    assert_eq!(page["pagination"], json!({"limit": 1, "offset": 1, "total": 3}));
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["data"][0].as_object().unwrap().len(), 1, "only the field asked for");

    // Another website's key, a token without analytics:read, a token without the website id.
    let other_owner = f.app.user("other@else.example");
    let other = f.app.website(&other_owner, "else.example");
    let other_key = f.app.website_key(&other);
    let reply = f.app.get(&format!("/api/v1/analytics/overview?websiteId={}", f.site), &other_key).await;
    assert_eq!(reply.status.code, 403, "{}", reply.body);
    let owner = f.app.user("writer@shop.example");
    f.app.member(&f.site, &owner, revlink::domain::Role::Member);
    let token = f.app.token(&owner, &["payments:write"], &[]);
    let reply = f.app.get(&format!("/api/v1/analytics/overview?websiteId={}", f.site), &token).await;
    assert_eq!(reply.status.code, 403, "{}", reply.body);
    let reply = f.app.get("/api/v1/analytics/overview", &token).await;
    assert_eq!(reply.status.code, 400);
    let reader = f.app.token(&owner, &["analytics:read"], &[]);
    let reply = f.app.get(&format!("/api/v1/analytics/overview?websiteId={}", f.site), &reader).await;
    assert_eq!(reply.status.code, 200, "{}", reply.body);
    let goal = json!({"datafast_visitor_id": "A", "name": "x"});
    let path = format!("/api/v1/goals?websiteId={}", f.site);
    let reply = f.app.send(Method::Post, &path, Some(&reader), Some(&goal.to_string())).await;
    assert_eq!(reply.status.code, 403, "goals:write is needed: {}", reply.body);
    for (body, message) in [
        (json!({"name": "x"}), "datafast_visitor_id is required"),
        (json!({"datafast_visitor_id": "A", "name": "has space"}), "name must be 1 to 64 letters"),
        (json!({"datafast_visitor_id": "A", "name": "x", "metadata": [1]}), "metadata must be an object"),
    ] {
        let reply = f.app.send(Method::Post, "/api/v1/goals", Some(&f.key), Some(&body.to_string())).await;
        assert_eq!(reply.status.code, 400, "{body}");
        assert!(reply.message().starts_with(message), "{body}: {}", reply.message());
    }
    let bad = json!({"datafast_visitor_id": "A", "user_id": "u", "email": "not-an-email"});
    let reply = f.app.send(Method::Post, "/api/v1/identify", Some(&f.key), Some(&bad.to_string())).await;
    assert_error(&reply, 400, "email \"not-an-email\" is not a valid email address");
}
