//! Every failure a client can cause answers with the envelope: catchers, body limits, content
//! types, rate limits (contract §1 and §5).

use rocket::http::{ContentType, Header, Method, Status};

use crate::helpers::{TestApp, assert_error};

const ADMIN: &str = "/api/v1/admin";

#[rocket::async_test]
async fn unknown_routes_and_methods_answer_with_the_envelope() {
    let app = TestApp::new().await;
    let reply = app.send(Method::Get, "/api/v1/admin/nothing-here", None, None).await;
    assert_error(&reply, 404, "No route for GET /api/v1/admin/nothing-here");
    let reply = app.send(Method::Get, "/api/v2/anything", None, None).await;
    assert_error(&reply, 404, "No route for GET /api/v2/anything");
}

#[rocket::async_test]
async fn a_path_asked_with_a_method_it_does_not_answer_is_405_with_allow() {
    let app = TestApp::new().await;
    let reply = app.send(Method::Patch, &format!("{ADMIN}/websites"), None, None).await;
    assert_error(&reply, 405, "This path does not answer PATCH; it answers GET, HEAD, POST");
    assert_eq!(reply.header("Allow"), Some("GET, HEAD, POST"));
    let site = format!("{ADMIN}/websites/665f0b3c4d2e1a0012345678");
    let reply = app.send(Method::Trace, &site, None, None).await;
    assert_eq!((reply.status.code, reply.header("Allow")), (405, Some("DELETE, GET, HEAD, PUT")));
    let reply = app.send(Method::Options, "/api/v1/payments", None, None).await;
    assert_eq!((reply.status.code, reply.header("Allow")), (405, Some("DELETE, POST")));
    // A path no route has stays a 404, whatever the method.
    let reply = app.send(Method::Patch, &format!("{ADMIN}/nothing-here"), None, None).await;
    assert_error(&reply, 404, "No route for PATCH /api/v1/admin/nothing-here");
    let reply = app.send(Method::Get, "/api/v2/anything", None, None).await;
    assert_error(&reply, 404, "No route for GET /api/v2/anything");
}

#[rocket::async_test]
async fn bearer_parsing() {
    let app = TestApp::new().await;
    let (_, _, token) = app.owner_with_site();
    let url = format!("{ADMIN}/websites");
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Token abc"] {
        let res = app.client.get(url.as_str()).header(Header::new("Authorization", header)).dispatch().await;
        assert_eq!(res.status().code, 401, "{header}");
        let body: serde_json::Value = serde_json::from_str(&res.into_string().await.unwrap()).unwrap();
        assert_eq!(body["error"]["message"], "Missing bearer token", "{header}");
    }
    assert_error(&app.get(&url, "dft_notarealtoken").await, 401, "Invalid token");
    assert_error(&app.get(&url, "sk_live_whatever").await, 401, "Invalid token");
    let lower =
        app.client.get(url.as_str()).header(Header::new("Authorization", format!("bearer {token}"))).dispatch().await;
    assert_eq!(lower.status().code, 200, "the scheme is case-insensitive");
}

#[rocket::async_test]
async fn bodies_over_64_kib_are_413() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let big = format!("{{\"stripeRak\":\"{}\"}}", "a".repeat(70 * 1024));
    let reply =
        app.send(Method::Post, &format!("{ADMIN}/websites/{site}/integrations/stripe"), Some(&token), Some(&big)).await;
    assert_error(&reply, 413, "Request body is larger than the 64KiB limit");
    let just_under = format!("{{\"name\":\"x\",\"pad\":\"{}\"}}", "a".repeat(60 * 1024));
    let reply =
        app.send(Method::Post, &format!("{ADMIN}/websites/{site}/apikeys"), Some(&token), Some(&just_under)).await;
    assert_eq!(reply.status.code, 200, "a body under the limit is read: {}", reply.body);
}

#[rocket::async_test]
async fn non_json_content_types_are_415() {
    let app = TestApp::new().await;
    let (_, site, token) = app.owner_with_site();
    let res = app
        .client
        .post(format!("{ADMIN}/websites/{site}/integrations/stripe"))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .header(ContentType::Form)
        .body("stripeRak=rk_live_0123456789")
        .dispatch()
        .await;
    assert_eq!(res.status().code, 415);
    let body: serde_json::Value = serde_json::from_str(&res.into_string().await.unwrap()).unwrap();
    assert_eq!(
        body["error"]["message"],
        "Unsupported content type application/x-www-form-urlencoded; send the body as JSON with Content-Type: application/json"
    );
}

#[rocket::async_test]
async fn per_credential_rate_limit_with_headers() {
    let app = TestApp::with(|f| f.merge(("rate_limit_per_minute", 3))).await;
    let (_, _, token) = app.owner_with_site();
    let url = format!("{ADMIN}/websites");
    let first = app.get(&url, &token).await;
    assert_eq!(first.header("X-RateLimit-Limit"), Some("3"));
    assert_eq!(first.header("X-RateLimit-Remaining"), Some("2"));
    assert!(first.header("X-RateLimit-Reset").is_some());
    app.get(&url, &token).await;
    app.get(&url, &token).await;
    let refused = app.get(&url, &token).await;
    assert_eq!(refused.status.code, 429);
    assert_eq!(refused.body["error"]["code"], 429);
    assert!(refused.message().starts_with("Too many requests; retry after"));
    let retry: u64 = refused.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    assert_eq!(refused.header("X-RateLimit-Remaining"), Some("0"));

    let other = app.full_token(&app.user("second@example.com"));
    assert_eq!(app.get(&url, &other).await.status.code, 200, "another credential has its own budget");
}

#[rocket::async_test]
async fn repeated_authentication_failures_from_one_address_are_429() {
    let app = TestApp::with(|f| f.merge(("auth_failure_limit_per_minute", 2))).await;
    let url = format!("{ADMIN}/websites");
    assert_eq!(app.get(&url, "dft_wrong").await.status.code, 401);
    assert_eq!(app.get(&url, "dft_wrong").await.status.code, 401);
    let refused = app.get(&url, "dft_wrong").await;
    assert_eq!(refused.status.code, 429);
    assert!(refused.header("Retry-After").is_some());
}

#[rocket::async_test]
async fn every_answer_has_a_request_id() {
    let app = TestApp::new().await;
    let reply = app.send(Method::Get, "/api/v1/health", None, None).await;
    assert_eq!(reply.body["data"][0]["health"], "ok");
    assert_eq!(reply.header("X-Request-Id").map(str::len), Some(16));
}

#[rocket::async_test]
async fn health_shows_the_database_and_wal_sizes() {
    let app = TestApp::new().await;
    app.owner_with_site();
    let health = &app.send(Method::Get, "/api/v1/health", None, None).await.body["data"][0];
    let on_disk = std::fs::metadata(app.dir.path().join("revlink.sqlite3")).unwrap().len();
    assert_eq!(health["dbBytes"].as_u64(), Some(on_disk));
    assert!(health["walBytes"].as_u64().is_some_and(|wal| wal > 0), "{health}");
}

#[rocket::async_test]
async fn the_release_profile_starts_with_the_generated_cookie_secret() {
    // Rocket refuses to launch in release without a secret key: revlink generates and keeps one.
    let app = TestApp::with(|f| f.select("release")).await;
    assert_eq!(app.send(Method::Get, "/api/v1/health", None, None).await.status.code, 200);
    let secret = std::fs::read_to_string(app.dir.path().join("secret.key")).unwrap();
    assert_eq!(secret.trim().len(), 64);
}

/// Sends an unknown token from `peer`, claiming to be `claimed` in `X-Real-IP`.
async fn wrong_token_from(app: &TestApp, peer: &str, claimed: &str) -> Status {
    let mut req = app.client.get(format!("{ADMIN}/websites"));
    req.add_header(Header::new("Authorization", "Bearer dft_wrong"));
    req.add_header(Header::new("X-Real-IP", claimed.to_owned()));
    req.set_remote(peer.parse().unwrap());
    req.dispatch().await.status()
}

#[rocket::async_test]
async fn a_client_cannot_escape_the_per_address_limit_with_a_header() {
    let app = TestApp::with(|f| f.merge(("auth_failure_limit_per_minute", 2))).await;
    let peer = "198.51.100.7:40000";
    assert_eq!(wrong_token_from(&app, peer, "10.0.0.1").await, Status::Unauthorized);
    assert_eq!(wrong_token_from(&app, peer, "10.0.0.2").await, Status::Unauthorized);
    assert_eq!(wrong_token_from(&app, peer, "10.0.0.3").await, Status::TooManyRequests, "X-Real-IP ignored");
}

#[rocket::async_test]
async fn a_trusted_proxy_names_the_client() {
    let app =
        TestApp::with(|f| f.merge(("auth_failure_limit_per_minute", 2)).merge(("trusted_proxies", vec!["127.0.0.1"])))
            .await;
    let proxy = "127.0.0.1:51000";
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"] {
        assert_eq!(wrong_token_from(&app, proxy, client).await, Status::Unauthorized, "{client} counted apart");
    }
    assert_eq!(wrong_token_from(&app, proxy, "203.0.113.1").await, Status::Unauthorized);
    assert_eq!(wrong_token_from(&app, proxy, "203.0.113.1").await, Status::TooManyRequests);
}
