//! `GET /metrics`: refused (as an unknown route) unless the bearer is the configured `metrics_token` or
//! the TCP peer is loopback; the body is Prometheus text with requests under their route template,
//! the database's file sizes and the import's series. Rocket's local client has no socket, so a
//! request has no peer unless the test gives it one (`LocalRequest::remote`).

use std::collections::HashMap;
use std::net::SocketAddr;

use rocket::http::{Header, Status};
use serde_json::Value;

use crate::helpers::{TEST_KEY, TestApp};
use crate::import::{app_for, finished, sync_now, wait_for};
use crate::stripe_account::{Account, Fault, NewCharge, unix_days_ago};

const TOKEN: &str = "5f1d3c0b9a8e7d6c5f1d3c0b9a8e7d6c";

fn with_token(f: rocket::figment::Figment) -> rocket::figment::Figment {
    f.merge(("metrics_token", TOKEN))
}

struct Scrape {
    status: Status,
    content_type: Option<String>,
    body: String,
}

/// `GET /metrics` from `peer` (none: the local client's default), with `bearer` and other headers.
async fn scrape(app: &TestApp, peer: Option<&str>, bearer: Option<&str>, headers: &[(&'static str, &str)]) -> Scrape {
    // A client that prefers JSON is refused with the envelope (a browser gets the 404 page: tests/pages/errors.rs).
    let mut req = app.client.get("/metrics").header(Header::new("Accept", "application/json"));
    if let Some(peer) = peer {
        req = req.remote(peer.parse::<SocketAddr>().expect("socket address"));
    }
    if let Some(token) = bearer {
        req.add_header(Header::new("Authorization", format!("Bearer {token}")));
    }
    for (name, value) in headers {
        req.add_header(Header::new(*name, (*value).to_owned()));
    }
    let res = req.dispatch().await;
    let (status, content_type) = (res.status(), res.content_type().map(|c| c.to_string()));
    Scrape { status, content_type, body: res.into_string().await.unwrap_or_default() }
}

/// Refused exactly as an unknown path would be: 404 and, to a client that prefers JSON, the error envelope.
fn assert_refused(s: &Scrape, why: &str) {
    assert_eq!(s.status, Status::NotFound, "{why}: {}", s.body);
    let v: Value = serde_json::from_str(&s.body).unwrap_or_else(|_| panic!("{why}: not the envelope: {}", s.body));
    assert_eq!(v["status"], "error", "{why}");
    assert_eq!(v["error"]["code"], 404, "{why}");
    assert_eq!(v["error"]["message"], "No route for GET /metrics", "{why}");
    assert!(!s.body.contains("revlink_"), "{why}");
}

/// One sample line: `name{labels} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// Parses the exposition text; panics on any line that is neither a comment nor a sample.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(comment.starts_with("HELP ") || comment.starts_with("TYPE "), "odd comment: {line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"))),
            None => (series, ""),
        };
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        let mut map = HashMap::new();
        let mut rest = labels;
        while !rest.is_empty() {
            let (key, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("bad label: {line}"));
            // Values here never contain an escaped quote.
            let (value, after) = after.split_once('"').unwrap_or_else(|| panic!("unterminated label: {line}"));
            map.insert(key.to_owned(), value.to_owned());
            rest = after.strip_prefix(',').unwrap_or(after);
        }
        samples.push(Sample { name: name.to_owned(), labels: map, value });
    }
    samples
}

/// The value of the one sample named `name` whose labels include `labels`.
fn find(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .collect();
    assert!(matching.len() <= 1, "{name} {labels:?} matches {matching:?}");
    matching.first().map(|s| s.value)
}

#[rocket::async_test]
async fn without_a_token_only_an_unforwarded_loopback_peer_may_scrape() {
    let app = TestApp::new().await;
    let remote = Some("203.0.113.7:40000");
    assert_refused(&scrape(&app, None, None, &[]).await, "the local client's request has no peer");
    assert_refused(&scrape(&app, remote, None, &[]).await, "a remote peer");
    let spoofed = [("X-Real-IP", "127.0.0.1"), ("X-Forwarded-For", "127.0.0.1")];
    assert_refused(&scrape(&app, remote, None, &spoofed).await, "headers do not make a peer local");
    assert_refused(&scrape(&app, remote, Some(TOKEN), &[]).await, "no token is configured");

    for peer in ["127.0.0.1:40000", "127.8.9.10:40000", "[::1]:40000", "[::ffff:127.0.0.1]:40000"] {
        let s = scrape(&app, Some(peer), None, &[]).await;
        assert_eq!(s.status, Status::Ok, "{peer}: {}", s.body);
        assert_eq!(s.content_type.as_deref(), Some("text/plain; version=0.0.4; charset=utf-8"));
        assert!(s.body.contains("revlink_http_requests_total"), "{peer}");
    }
    for header in ["X-Forwarded-For", "X-Real-IP", "Forwarded"] {
        let relayed = scrape(&app, Some("127.0.0.1:40000"), None, &[(header, "for=203.0.113.7")]).await;
        assert_refused(&relayed, &format!("a loopback proxy relaying with {header}"));
    }
}

#[rocket::async_test]
async fn the_configured_token_opens_it_from_anywhere_and_nothing_else_does() {
    let app = TestApp::with(with_token).await;
    for peer in [None, Some("203.0.113.7:40000")] {
        assert_refused(&scrape(&app, peer, None, &[]).await, &format!("no bearer from {peer:?}"));
        for wrong in ["5f1d3c0b9a8e7d6c5f1d3c0b9a8e7d6d", "5f1d3c0b", "dft_whatever"] {
            assert_refused(&scrape(&app, peer, Some(wrong), &[]).await, &format!("{wrong} from {peer:?}"));
        }
        let s = scrape(&app, peer, Some(TOKEN), &[]).await;
        assert_eq!(s.status, Status::Ok, "{peer:?}: {}", s.body);
    }
    let loopback = Some("127.0.0.1:40000");
    assert_refused(&scrape(&app, loopback, Some("not-the-token-at-all"), &[]).await, "a wrong token from loopback");
    assert_eq!(scrape(&app, loopback, None, &[]).await.status, Status::Ok, "loopback needs no token");
}

#[rocket::async_test]
async fn requests_are_counted_under_their_route_template_and_the_files_are_measured() {
    let app = TestApp::with(with_token).await;
    let (_, site, token) = app.owner_with_site();
    assert_eq!(app.get(&format!("/api/v1/admin/websites/{site}/apikeys"), &token).await.status, Status::Ok);
    assert_eq!(app.get(&format!("/api/v1/admin/websites/{site}/apikeys"), &token).await.status, Status::Ok);
    let other = "665f0b3c4d2e1a0012345678";
    assert_eq!(app.get(&format!("/api/v1/admin/websites/{other}/apikeys"), &token).await.status, Status::NotFound);
    let probe = "/wp-admin/9c1f2e/setup.php";
    assert_eq!(app.client.get(probe).dispatch().await.status(), Status::NotFound);

    let s = scrape(&app, None, Some(TOKEN), &[]).await;
    assert_eq!(s.status, Status::Ok, "{}", s.body);
    let samples = parse(&s.body);

    let apikeys = "/api/v1/admin/websites/<website_id>/apikeys";
    let requests = "revlink_http_requests_total";
    let count = |route: &str, status: &str| {
        find(&samples, requests, &[("method", "GET"), ("route", route), ("status", status)])
    };
    assert_eq!(count(apikeys, "200"), Some(2.0), "{}", s.body);
    assert_eq!(count(apikeys, "404"), Some(1.0), "a refused id is counted under the template");
    assert_eq!(count("unmatched", "404"), Some(1.0), "no route: one label");
    let timed = find(&samples, "revlink_http_request_duration_seconds_count", &[("method", "GET"), ("route", apikeys)]);
    assert_eq!(timed, Some(3.0));
    let under_10s = find(
        &samples,
        "revlink_http_request_duration_seconds_bucket",
        &[("method", "GET"), ("route", apikeys), ("le", "10")],
    );
    assert_eq!(under_10s, Some(3.0), "{}", s.body);

    for sample in samples.iter().filter(|s| s.labels.contains_key("route")) {
        let route = &sample.labels["route"];
        assert!(route == "unmatched" || route.starts_with('/'), "{sample:?}");
        assert!(!route.contains(site.as_str()) && !route.contains(other), "an id became a label: {sample:?}");
        assert!(!route.contains("wp-admin"), "a probed path became a label: {sample:?}");
    }
    assert!(!s.body.contains(site.as_str()), "no website is connected, so no id appears at all");

    let len = |file: &str| {
        std::fs::metadata(app.dir.path().join(file))
            .map_or(0.0, |m| f64::from(u32::try_from(m.len()).expect("a small file")))
    };
    let db = find(&samples, "revlink_database_size_bytes", &[]).expect("database size");
    let wal = find(&samples, "revlink_database_wal_size_bytes", &[]).expect("WAL size");
    assert!(db > 0.0);
    assert_eq!(
        (db, wal),
        (len("revlink.sqlite3"), len("revlink.sqlite3-wal")),
        "read from the files beside the database"
    );
    if cfg!(target_os = "linux") {
        assert!(find(&samples, "process_resident_memory_bytes", &[]).is_some_and(|b| b > 1e6));
    }
}

#[rocket::async_test]
async fn the_import_reports_pages_errors_and_the_age_of_each_websites_last_success() {
    let account = Account::default();
    account.with(|d| {
        for i in 0..150 {
            d.charge(NewCharge { amount: 1000 + i, created: unix_days_ago(i % 300) - i, ..Default::default() });
        }
    });
    let (app, site, token) = app_for(&account, with_token).await;
    let before = parse(&scrape(&app, None, Some(TOKEN), &[]).await.body);
    let age = "revlink_import_seconds_since_last_success";
    assert_eq!(find(&before, age, &[]), None, "nothing connected, no series");
    assert_eq!(find(&before, "revlink_import_errors_total", &[("kind", "refused")]), Some(0.0));

    assert_eq!(app.connect(&site, &token, TEST_KEY).await.status, Status::Ok);
    wait_for(&app, &site, &token, finished).await;
    let after = parse(&scrape(&app, None, Some(TOKEN), &[]).await.body);
    let pages = |samples: &[Sample], list| find(samples, "revlink_import_pages_committed_total", &[("list", list)]);
    assert_eq!(pages(&after, "charges"), Some(2.0), "150 charges are two pages");
    let seconds = find(&after, age, &[("website_id", site.as_str())]).expect("the synced website's age");
    assert!((0.0..60.0).contains(&seconds), "{seconds}");

    account.with(|d| d.fault = Some(Fault::Revoked));
    let sync = sync_now(&app, &site, &token).await;
    assert_eq!(sync["state"], "error", "{sync}");
    let refused = parse(&scrape(&app, None, Some(TOKEN), &[]).await.body);
    assert_eq!(find(&refused, "revlink_import_errors_total", &[("kind", "refused")]), Some(1.0));
    assert_eq!(find(&refused, "revlink_import_errors_total", &[("kind", "failed")]), Some(0.0));
    assert!(
        find(&refused, age, &[("website_id", site.as_str())]).is_some_and(|s| s >= seconds),
        "still the last success"
    );
}

#[rocket::async_test]
async fn the_database_writer_shows_its_queue_and_how_it_grouped_writes() {
    let app = TestApp::with(with_token).await;
    let (_, site, token) = app.owner_with_site();
    let path = format!("/api/v1/payments?websiteId={site}");
    for n in 0..3 {
        let body = format!(r#"{{"amount":10,"currency":"USD","transaction_id":"w{n}"}}"#);
        assert_eq!(app.send(rocket::http::Method::Post, &path, Some(&token), Some(&body)).await.status, Status::Ok);
    }
    let s = scrape(&app, None, Some(TOKEN), &[]).await;
    let samples = parse(&s.body);
    let batches = find(&samples, "revlink_writer_batches_total", &[]).expect("batches");
    let jobs = find(&samples, "revlink_writer_jobs_total", &[]).expect("jobs");
    assert!(batches >= 1.0 && batches <= jobs, "{}", s.body);
    assert!(jobs >= 3.0, "the three payments went through the writer: {}", s.body);
    assert_eq!(find(&samples, "revlink_writer_queue_depth", &[]), Some(0.0), "nothing waiting now");
}
