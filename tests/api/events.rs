//! `POST /api/events` (contract §2-§4): what it answers, what it stores, and what it never stores.

use std::net::SocketAddr;

use rocket::http::{ContentType, Header, Method, Status};
use rusqlite::types::FromSql;
use serde_json::{Value, json};

use revlink::domain::tracking::TrackingSettings;
use revlink::domain::{Actor, ObjectId};

use crate::helpers::{Reply, TestApp, assert_error};

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/120.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
                      Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const VISITOR: &str = "0b7e4c3a-1d2f-4e5a-9b8c-7d6e5f4a3b2c";
const ADDRESS: &str = "203.0.113.77";

struct Site {
    id: ObjectId,
    tracking_id: String,
}

fn site(app: &TestApp, domain: &str) -> Site {
    let owner = app.user(&format!("owner@{domain}"));
    let id = app.website(&owner, domain);
    let tracking_id = one(app, &format!("SELECT tracking_id FROM websites WHERE id = '{id}'"));
    Site { id, tracking_id }
}

/// The single value `sql` selects.
fn one<T: FromSql>(app: &TestApp, sql: &str) -> T {
    app.state().db.with_conn(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).unwrap()
}

fn count(app: &TestApp, table: &str) -> i64 {
    one(app, &format!("SELECT COUNT(*) FROM {table}"))
}

fn pageview(site: &Site, href: &str) -> Value {
    json!({"websiteId": site.tracking_id, "domain": "example.com", "href": href, "referrer": null,
           "viewport": {"width": 1440, "height": 900}, "visitorId": VISITOR, "sessionId": "s1", "type": "pageview"})
}

/// Sends `body` as the script would, from `address` with `user_agent`, plus `headers`.
async fn send_raw(app: &TestApp, body: String, user_agent: &str, address: &str, headers: &[(&str, &str)]) -> Reply {
    let remote = SocketAddr::new(address.parse().unwrap(), 40000);
    let mut req = app
        .client
        .post("/api/events")
        .header(ContentType::JSON)
        .header(Header::new("User-Agent", user_agent.to_owned()))
        .remote(remote)
        .body(body);
    for (name, value) in headers {
        req.add_header(Header::new((*name).to_owned(), (*value).to_owned()));
    }
    Reply::read(req.dispatch().await).await
}

async fn send(app: &TestApp, event: &Value) -> Reply {
    send_raw(app, event.to_string(), CHROME, ADDRESS, &[]).await
}

fn assert_envelope(answer: &Reply, status: u16, says: &str) {
    assert_eq!(answer.status.code, status, "{}", answer.body);
    assert_eq!(answer.body["status"], "error");
    assert_eq!(answer.body["error"]["code"], status);
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "{message:?} does not say {says:?}");
}

#[rocket::async_test]
async fn a_pageview_records_the_visitor_with_its_acquisition_and_later_ones_keep_it() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    let mut first = pageview(&site, "https://example.com/pricing?utm_source=newsletter&utm_campaign=launch&gclid=1");
    first["referrer"] = json!("https://www.google.com/");
    let answer = send(&app, &first).await;
    assert_eq!((answer.status, &answer.body), (Status::Ok, &json!({"status": "success"})));

    let mut second = pageview(&site, "https://blog.example.com/post?utm_source=other");
    second["referrer"] = json!("https://news.ycombinator.com/");
    assert_eq!(send_raw(&app, second.to_string(), IPHONE, ADDRESS, &[]).await.status, Status::Ok);

    let acquisition: String = one(
        &app,
        "SELECT concat_ws('|', referrer, referrer_host, utm_source, utm_campaign, ad_click_ids, landing_path, hostname,
                          device, browser, os, viewport_width) FROM visitors",
    );
    assert_eq!(
        acquisition, "Google|www.google.com|newsletter|launch|gclid|/pricing|example.com|desktop|Chrome|Windows|1440",
        "the first touch stays"
    );
    assert_eq!(count(&app, "visitors"), 1);
    assert_eq!(count(&app, "events"), 2);
    let seen: i64 = one(&app, "SELECT last_seen - first_seen FROM visitors");
    assert!(seen >= 0);
    let session: String = one(&app, "SELECT pageviews || ' ' || entry_path FROM visitor_sessions");
    assert_eq!(session, "2 /pricing");
}

#[rocket::async_test]
async fn custom_goals_keep_their_name_and_parameters() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    let mut goal = pageview(&site, "https://example.com/signup");
    goal["type"] = json!("custom");
    goal["extraData"] = json!({"eventName": "Signup", "plan": "pro"});
    assert_eq!(send(&app, &goal).await.status, Status::Ok);
    let stored: String = one(&app, "SELECT type || ' ' || name || ' ' || params FROM events");
    assert_eq!(stored, r#"custom signup {"plan":"pro"}"#);
    assert_eq!(one::<i64>(&app, "SELECT pageviews FROM visitor_sessions"), 0, "a goal is not a pageview");
}

#[rocket::async_test]
async fn refusals_answer_with_the_envelope() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    let mut unknown = pageview(&site, "https://example.com/");
    unknown["websiteId"] = json!("dfid_nobodyhasthisid");
    assert_envelope(&send(&app, &unknown).await, 404, "No website has the tracking id");
    assert_envelope(&send_raw(&app, "{\"websiteId\":".into(), CHROME, ADDRESS, &[]).await, 400, "not valid JSON");
    let mut no_href = pageview(&site, "https://example.com/");
    no_href.as_object_mut().unwrap().remove("href");
    assert_envelope(&send(&app, &no_href).await, 400, "href is required");
    let mut bad_type = pageview(&site, "https://example.com/");
    bad_type["type"] = json!("click");
    assert_envelope(&send(&app, &bad_type).await, 400, "type \"click\" is not one of");
    let mut big = pageview(&site, "https://example.com/");
    big["extraData"] = json!({"pad": "x".repeat(9 * 1024)});
    assert_envelope(&send(&app, &big).await, 413, "larger than 8192 bytes");
    let form = app
        .client
        .post("/api/events")
        .header(ContentType::Form)
        .header(Header::new("User-Agent", CHROME))
        .body("a=b")
        .dispatch()
        .await;
    assert_eq!(form.status(), Status::UnsupportedMediaType);
    assert_envelope(&send(&app, &pageview(&site, "https://evil.io/")).await, 403, "evil.io is not example.com");
    assert_eq!(count(&app, "events"), 0, "nothing refused was stored");
}

#[rocket::async_test]
async fn only_the_domain_its_subdomains_and_allowed_hostnames_are_the_website() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    for href in ["https://example.com/", "https://www.example.com/a", "http://shop.eu.example.com/b"] {
        assert_eq!(send(&app, &pageview(&site, href)).await.status, Status::Ok, "{href}");
    }
    for href in ["https://evilexample.com/", "https://example.com.evil.io/", "https://partner.io/"] {
        assert_envelope(&send(&app, &pageview(&site, href)).await, 403, "is not example.com");
    }
    let id = site.id.clone();
    app.state()
        .db
        .with_conn(move |c| Ok(c.execute("UPDATE websites SET allowed_hostnames = 'partner.io' WHERE id = ?1", [&id])?))
        .unwrap();
    app.state().forget_tracked_sites();
    assert_eq!(send(&app, &pageview(&site, "https://app.partner.io/")).await.status, Status::Ok);
    assert_eq!(count(&app, "events"), 4);
}

#[rocket::async_test]
async fn bots_are_answered_success_and_not_stored() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    let event = pageview(&site, "https://example.com/").to_string();
    for bot in ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/8.5.0", ""] {
        let answer = send_raw(&app, event.clone(), bot, ADDRESS, &[]).await;
        assert_eq!((answer.status, &answer.body), (Status::Ok, &json!({"status": "success"})), "{bot:?}");
    }
    assert_eq!(count(&app, "visitors") + count(&app, "events"), 0);
}

#[rocket::async_test]
async fn too_many_events_from_one_address_are_429() {
    let app = TestApp::with(|f| f.merge(("event_limit_per_minute", 2))).await;
    let site = site(&app, "example.com");
    let event = pageview(&site, "https://example.com/").to_string();
    for _ in 0..2 {
        assert_eq!(send_raw(&app, event.clone(), CHROME, ADDRESS, &[]).await.status, Status::Ok);
    }
    let refused = send_raw(&app, event.clone(), CHROME, ADDRESS, &[]).await;
    assert_envelope(&refused, 429, "Too many requests");
    assert!(refused.header("Retry-After").is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
    assert_eq!(send_raw(&app, event, CHROME, "198.51.100.2", &[]).await.status, Status::Ok, "per address");
}

#[rocket::async_test]
async fn the_preflight_allows_the_websites_hosts_and_no_other() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    let id = site.id.clone();
    app.state()
        .db
        .with_conn(move |c| Ok(c.execute("UPDATE websites SET allowed_hostnames = 'partner.io' WHERE id = ?1", [&id])?))
        .unwrap();
    app.state().forget_tracked_sites();
    for origin in ["https://example.com", "https://blog.example.com", "http://app.partner.io:8080"] {
        let res = app
            .client
            .req(Method::Options, "/api/events")
            .header(Header::new("Origin", origin))
            .header(Header::new("Access-Control-Request-Method", "POST"))
            .header(Header::new("Access-Control-Request-Headers", "content-type"))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::NoContent, "{origin}");
        assert_eq!(res.headers().get_one("Access-Control-Allow-Origin"), Some(origin), "echoed, never *");
        assert_eq!(res.headers().get_one("Access-Control-Allow-Methods"), Some("POST"));
        assert_eq!(res.headers().get_one("Access-Control-Allow-Headers"), Some("Content-Type"));
        assert_eq!(res.headers().get_one("Vary"), Some("Origin"));
        assert!(res.headers().get_one("Access-Control-Allow-Credentials").is_none());
    }
    for origin in ["https://evilexample.com", "https://example.com.evil.io", "null"] {
        let res = app.client.req(Method::Options, "/api/events").header(Header::new("Origin", origin)).dispatch().await;
        assert_eq!(res.status(), Status::Forbidden, "{origin}");
        assert!(res.headers().get_one("Access-Control-Allow-Origin").is_none(), "{origin}");
    }
}

#[rocket::async_test]
async fn an_accepted_event_names_its_origin_when_it_is_the_websites() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    let event = pageview(&site, "https://example.com/").to_string();
    let answer = send_raw(&app, event.clone(), CHROME, ADDRESS, &[("Origin", "https://example.com")]).await;
    assert_eq!(answer.header("Access-Control-Allow-Origin"), Some("https://example.com"));
    let answer = send_raw(&app, event, CHROME, ADDRESS, &[("Origin", "https://elsewhere.io")]).await;
    assert_eq!(answer.status, Status::Ok, "the page is the website's; the origin only decides the header");
    assert_eq!(answer.header("Access-Control-Allow-Origin"), None);
}

#[rocket::async_test]
async fn sessions_roll_per_session_id_and_continue_without_one() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    let mut event = pageview(&site, "https://example.com/a");
    send(&app, &event).await;
    event["href"] = json!("https://example.com/b");
    send(&app, &event).await;
    event["sessionId"] = json!("s2");
    event["href"] = json!("https://example.com/c");
    send(&app, &event).await;
    let sessions: String = one(
        &app,
        "SELECT group_concat(session_id || ':' || pageviews || ':' || entry_path, ' ') FROM
           (SELECT * FROM visitor_sessions ORDER BY session_id)",
    );
    assert_eq!(sessions, "s1:2:/a s2:1:/c");
    let last: String = one(&app, "SELECT last_session_id FROM visitors");
    assert_eq!(last, "s2");
    // Without a session id, the visitor's recent session goes on.
    let mut unnamed = pageview(&site, "https://example.com/d");
    unnamed.as_object_mut().unwrap().remove("sessionId");
    send(&app, &unnamed).await;
    assert_eq!(one::<i64>(&app, "SELECT pageviews FROM visitor_sessions WHERE session_id = 's2'"), 2);
    assert_eq!(count(&app, "visitor_sessions"), 2);
}

#[rocket::async_test]
async fn cookieless_ids_are_the_same_for_one_address_and_agent_and_differ_per_website() {
    let app = TestApp::new().await;
    let (first, second) = (site(&app, "example.com"), site(&app, "other.io"));
    let cookieless = |site: &Site, href: &str| {
        let mut event = pageview(site, href);
        let object = event.as_object_mut().unwrap();
        object.remove("visitorId");
        object.remove("sessionId");
        event.to_string()
    };
    for path in ["a", "b"] {
        let event = cookieless(&first, &format!("https://example.com/{path}"));
        assert_eq!(send_raw(&app, event, CHROME, ADDRESS, &[]).await.status, Status::Ok);
    }
    send_raw(&app, cookieless(&second, "https://other.io/"), CHROME, ADDRESS, &[]).await;
    send_raw(&app, cookieless(&first, "https://example.com/"), CHROME, "198.51.100.9", &[]).await;
    let id_on = |site: &Site| -> Vec<String> {
        let sql = format!(
            "SELECT visitor_id FROM events WHERE website_id = '{}' GROUP BY visitor_id ORDER BY min(id)",
            site.id
        );
        app.state()
            .db
            .with_conn(|c| {
                let mut stmt = c.prepare(&sql)?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
            })
            .unwrap()
    };
    let on_first = id_on(&first);
    assert_eq!(on_first.len(), 2, "one per address: {on_first:?}");
    assert_eq!(one::<i64>(&app, &format!("SELECT COUNT(*) FROM events WHERE visitor_id = '{}'", on_first[0])), 2);
    let on_second = id_on(&second);
    assert_eq!(on_second.len(), 1);
    assert!(!on_first.contains(&on_second[0]), "no linking across websites");
    assert_eq!(count(&app, "visitor_sessions"), 3, "the same day's events of one visitor share a session");
}

#[rocket::async_test]
async fn the_country_header_is_believed_from_trusted_proxies_only() {
    let app =
        TestApp::with(|f| f.merge(("trusted_proxies", ["127.0.0.1"])).merge(("country_header", "CF-IPCountry"))).await;
    let site = site(&app, "example.com");
    let mut event = pageview(&site, "https://example.com/");
    let proxied = [("CF-IPCountry", "de"), ("X-Real-IP", ADDRESS)];
    send_raw(&app, event.to_string(), CHROME, "127.0.0.1", &proxied).await;
    event["visitorId"] = json!("direct-visitor");
    send_raw(&app, event.to_string(), CHROME, "198.51.100.3", &[("CF-IPCountry", "FR")]).await;
    let countries: String =
        one(&app, "SELECT group_concat(visitor_id || '=' || ifnull(country, '?'), ' ') FROM visitors");
    assert_eq!(countries, format!("{VISITOR}=DE direct-visitor=?"));
}

#[rocket::async_test]
async fn deleting_the_website_deletes_its_visitors() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    send(&app, &pageview(&site, "https://example.com/")).await;
    assert_eq!(count(&app, "visitors"), 1);
    let id = site.id.clone();
    app.state().db.with_conn(move |c| revlink::db::websites::delete(c, &id, &revlink::domain::Actor::cli())).unwrap();
    assert_eq!(count(&app, "visitors") + count(&app, "visitor_sessions") + count(&app, "events"), 0);
}

#[rocket::async_test]
async fn no_client_address_is_ever_stored() {
    let app = TestApp::with(|f| f.merge(("trusted_proxies", ["127.0.0.1"]))).await;
    let site = site(&app, "example.com");
    let mut event = pageview(&site, "https://example.com/");
    send(&app, &event).await;
    event.as_object_mut().unwrap().remove("visitorId");
    send(&app, &event).await;
    let forwarded = [("X-Forwarded-For", "192.0.2.55")];
    send_raw(&app, event.to_string(), CHROME, "127.0.0.1", &forwarded).await;
    assert_eq!(count(&app, "events"), 3);
    let mut bytes = Vec::new();
    for file in ["revlink.sqlite3", "revlink.sqlite3-wal"] {
        bytes.extend(std::fs::read(app.dir.path().join(file)).unwrap_or_default());
    }
    assert!(bytes.len() > 4096);
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for address in [ADDRESS, "192.0.2.55"] {
        let ip: std::net::Ipv4Addr = address.parse().unwrap();
        assert!(!contains(address.as_bytes()), "{address} is in the database");
        assert!(!contains(&ip.octets()), "{address}'s bytes are in the database");
    }
}

#[rocket::async_test]
async fn the_route_is_listed_with_its_methods() {
    let app = TestApp::new().await;
    let reply = app.send(Method::Get, "/api/events", None, None).await;
    assert_error(&reply, 405, "This path does not answer GET; it answers OPTIONS, POST");
}

#[rocket::async_test]
async fn a_trusted_proxy_names_the_client_in_x_datafast_real_ip_first() {
    let app = TestApp::with(|f| f.merge(("trusted_proxies", ["127.0.0.1"]))).await;
    let site = site(&app, "example.com");
    let mut event = pageview(&site, "https://example.com/");
    event.as_object_mut().unwrap().remove("visitorId");
    let proxied = [("X-DataFast-Real-IP", "198.51.100.20"), ("X-Real-IP", "198.51.100.21")];
    send_raw(&app, event.to_string(), CHROME, "127.0.0.1", &proxied).await;
    send_raw(&app, event.to_string(), CHROME, "198.51.100.20", &[]).await;
    // From an address that is no proxy, the header is not believed: another visitor.
    send_raw(&app, event.to_string(), CHROME, "198.51.100.22", &[("X-DataFast-Real-IP", "198.51.100.20")]).await;
    assert_eq!(count(&app, "events"), 3);
    assert_eq!(count(&app, "visitors"), 2, "the proxied event and the direct one are one visitor");
}

/// Sets the website's tracking settings as the General page would.
fn configure(app: &TestApp, site: &Site, mode: &str, excluded_ips: &str, excluded_paths: &str) {
    let settings = TrackingSettings::parse(mode, "", excluded_ips, excluded_paths).unwrap();
    let id = site.id.clone();
    app.state().db.with_conn(move |c| revlink::db::tracking::update(c, &id, &settings, &Actor::cli())).unwrap();
    app.state().forget_tracked_sites();
}

#[rocket::async_test]
async fn events_from_excluded_ip_ranges_are_answered_success_and_not_stored() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    configure(&app, &site, "cookie", "203.0.113.0/24\n2001:db8::/32", "");
    let event = pageview(&site, "https://example.com/").to_string();
    let origin = [("Origin", "https://example.com")];
    for address in [ADDRESS, "2001:db8::7", "::ffff:203.0.113.8"] {
        let answer = send_raw(&app, event.clone(), CHROME, address, &origin).await;
        assert_eq!((answer.status, &answer.body), (Status::Ok, &json!({"status": "success"})), "{address}");
        assert_eq!(
            answer.header("Access-Control-Allow-Origin"),
            Some("https://example.com"),
            "the script sees success"
        );
    }
    assert_eq!(count(&app, "events") + count(&app, "visitors") + count(&app, "visitor_sessions"), 0);
    assert_eq!(send_raw(&app, event, CHROME, "198.51.100.1", &[]).await.status, Status::Ok);
    assert_eq!(count(&app, "events"), 1, "other addresses are tracked");
}

#[rocket::async_test]
async fn a_trusted_proxys_client_address_is_the_one_checked_against_the_ranges() {
    let app = TestApp::with(|f| f.merge(("trusted_proxies", ["127.0.0.1"]))).await;
    let site = site(&app, "example.com");
    configure(&app, &site, "cookie", "198.51.100.0/24", "");
    let event = pageview(&site, "https://example.com/").to_string();
    send_raw(&app, event.clone(), CHROME, "127.0.0.1", &[("X-Real-IP", "198.51.100.4")]).await;
    assert_eq!(count(&app, "events"), 0);
    send_raw(&app, event, CHROME, "127.0.0.1", &[("X-Real-IP", ADDRESS)]).await;
    assert_eq!(count(&app, "events"), 1, "the proxy's own address is not the client's");
}

#[rocket::async_test]
async fn events_on_excluded_paths_are_answered_success_and_not_stored() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    configure(&app, &site, "cookie", "", "/admin/*\n/preview");
    for href in
        ["https://example.com/admin/users/5?x=1", "https://blog.example.com/preview", "https://example.com/admin/"]
    {
        let answer = send(&app, &pageview(&site, href)).await;
        assert_eq!((answer.status, &answer.body), (Status::Ok, &json!({"status": "success"})), "{href}");
    }
    assert_eq!(count(&app, "events"), 0);
    for href in ["https://example.com/admin", "https://example.com/pricing", "https://example.com/previews"] {
        send(&app, &pageview(&site, href)).await;
    }
    let paths: String = one(&app, "SELECT group_concat(path, ' ') FROM (SELECT path FROM events ORDER BY id)");
    assert_eq!(paths, "/admin /pricing /previews");
}

#[rocket::async_test]
async fn cookieless_mode_ignores_the_visitor_id_a_body_carries() {
    let app = TestApp::new().await;
    let site = site(&app, "example.com");
    configure(&app, &site, "cookieless", "", "");
    send(&app, &pageview(&site, "https://example.com/a")).await;
    let mut other_cookie = pageview(&site, "https://example.com/b");
    other_cookie["visitorId"] = json!("another-cookie-value");
    send(&app, &other_cookie).await;
    send_raw(&app, pageview(&site, "https://example.com/c").to_string(), CHROME, "198.51.100.9", &[]).await;
    assert_eq!(count(&app, "events"), 3);
    let visitors: Vec<String> = app
        .state()
        .db
        .with_conn(|c| {
            let mut stmt = c.prepare("SELECT visitor_id FROM visitors ORDER BY first_seen, visitor_id")?;
            Ok(stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?)
        })
        .unwrap();
    assert_eq!(visitors.len(), 2, "one per address and agent, whatever the bodies said: {visitors:?}");
    assert!(!visitors.iter().any(|v| v == VISITOR || v == "another-cookie-value"), "{visitors:?}");

    // Back in cookie mode, the body's id names the visitor again.
    configure(&app, &site, "cookie", "", "");
    send(&app, &pageview(&site, "https://example.com/d")).await;
    assert_eq!(one::<i64>(&app, &format!("SELECT COUNT(*) FROM visitors WHERE visitor_id = '{VISITOR}'")), 1);
}

#[rocket::async_test]
async fn the_geoip_database_gives_country_region_and_city_before_the_country_header() {
    let geo = tempfile::tempdir().unwrap();
    let path = geo.path().join("GeoLite2-City-test.mmdb");
    crate::geoip::write_city_database(&path);
    let app = TestApp::with(|f| {
        f.merge(("geoip_database", &path))
            .merge(("trusted_proxies", ["127.0.0.1"]))
            .merge(("country_header", "CF-IPCountry"))
    })
    .await;
    let site = site(&app, "example.com");
    let from = |visitor: &str, address: &str| {
        let mut event = pageview(&site, "https://example.com/");
        event["visitorId"] = json!(visitor);
        (event.to_string(), [("X-Real-IP", address.to_owned()), ("CF-IPCountry", "CA".to_owned())])
    };
    for (visitor, address) in [("in-berlin", ADDRESS), ("in-france", "2001:db8::1"), ("unknown", "198.51.100.2")] {
        let (event, headers) = from(visitor, address);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(send_raw(&app, event, CHROME, "127.0.0.1", &headers).await.status, Status::Ok);
    }
    let places: String = one(
        &app,
        "SELECT group_concat(visitor_id || '=' || concat_ws('/', country, region, city), ' ')
           FROM (SELECT * FROM visitors ORDER BY visitor_id)",
    );
    assert_eq!(
        places, "in-berlin=DE/Berlin/Berlin in-france=FR unknown=CA",
        "the header only where the database is silent"
    );
}

#[rocket::async_test]
async fn a_missing_or_malformed_geoip_database_stops_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let stripe = crate::stripe_fake::StripeFake::start().await;
    let missing = dir.path().join("nowhere/GeoLite2-City.mmdb");
    let garbage = dir.path().join("garbage.mmdb");
    std::fs::write(&garbage, b"not a MaxMind database at all").unwrap();
    for path in [missing, garbage] {
        let figment = crate::helpers::test_figment(&dir, &stripe.url()).merge(("geoip_database", &path));
        let err = revlink::build(figment).expect_err("refused").to_string();
        assert!(err.contains(&path.display().to_string()) && err.contains("geoip_database"), "{err}");
    }
}
