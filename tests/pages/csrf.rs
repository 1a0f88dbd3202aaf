//! CSRF: page forms need the session's token (the API with a session needs it as a header), and every
//! page form refuses a missing or wrong one.

use rocket::http::{ContentType, Header, Status};

use crate::browser::{location, text};
use crate::helpers::TestApp;

#[rocket::async_test]
async fn forms_need_the_session_csrf_token() {
    let app = TestApp::new().await;
    app.user_with_password("me@example.com");
    let csrf = app.login("me@example.com").await;
    let fields = |token: &'static str| [("domain", "a.example.com"), ("timezone", "UTC"), ("csrf_token", token)];
    let missing = app.post_form("/websites", &[("domain", "a.example.com"), ("timezone", "UTC")]).await;
    assert_eq!(missing.status(), Status::Forbidden);
    assert!(text(missing).await.contains("Missing or wrong CSRF token"));
    let wrong = app.post_form("/websites", &fields("0000")).await;
    assert_eq!(wrong.status(), Status::Forbidden);
    let ok =
        app.post_form("/websites", &[("domain", "a.example.com"), ("timezone", "UTC"), ("csrf_token", &csrf)]).await;
    assert_eq!(ok.status(), Status::SeeOther);
    let page = text(app.client.get(location(&ok)).dispatch().await).await;
    assert!(page.contains("Website a.example.com added"), "flash after the redirect");

    // The API with the session: reads as is, writes only with the header.
    let site = location(&ok).split('/').nth(2).unwrap().to_owned();
    let read = app.client.get("/api/v1/admin/websites").dispatch().await;
    assert_eq!(read.status(), Status::Ok);
    let api = format!("/api/v1/admin/websites/{site}");
    let write = app.client.put(api.clone()).header(ContentType::JSON).body(r#"{"name":"x"}"#).dispatch().await;
    assert_eq!(write.status(), Status::Forbidden);
    let with_header = app
        .client
        .put(api)
        .header(ContentType::JSON)
        .header(Header::new("X-CSRF-Token", csrf.clone()))
        .body(r#"{"name":"x"}"#)
        .dispatch()
        .await;
    assert_eq!(with_header.status(), Status::Ok);
}

#[rocket::async_test]
async fn every_page_form_refuses_a_missing_or_wrong_csrf_token() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let key = app
        .state()
        .db
        .with_conn(|c| revlink::db::credentials::create_website_key(c, &site, None, &revlink::domain::Actor::cli()));
    let key_id = key.unwrap().id;
    let token_id = app
        .state()
        .db
        .with_conn(|c| {
            let all = revlink::domain::PermissionSet::all();
            revlink::db::credentials::create_access_token(c, &me, None, &all, &[], &revlink::domain::Actor::cli())
        })
        .unwrap()
        .id;
    app.login("me@example.com").await;
    let forms = [
        "/logout".to_owned(),
        "/websites".to_owned(),
        format!("/websites/{site}"),
        format!("/websites/{site}/integrations/stripe/disconnect"),
        format!("/websites/{site}/integrations/stripe/sync"),
        format!("/websites/{site}/integrations/stripe"),
        format!("/api/v1/admin/websites/{site}/integrations/stripe"),
        format!("/websites/{site}/keys"),
        format!("/websites/{site}/keys/{key_id}/roll"),
        format!("/websites/{site}/keys/{key_id}/delete"),
        format!("/websites/{site}/team"),
        format!("/websites/{site}/team/remove"),
        "/account/tokens".to_owned(),
        format!("/account/tokens/{token_id}/revoke"),
        "/account/password".to_owned(),
    ];
    let fields = [
        ("domain", "x.example.com"),
        ("timezone", "UTC"),
        ("currency", "USD"),
        ("name", "x"),
        ("email", "x@example.com"),
        ("role", "viewer"),
        ("user_id", "aaaaaaaaaaaaaaaaaaaaaaaa"),
        ("new", "a long new password"),
        ("stripeRak", "rk_live_51AbcdefGhijklmnopQrst"),
    ];
    for path in &forms {
        let missing = app.post_form(path, &fields).await;
        assert_eq!(missing.status(), Status::Forbidden, "{path} without a token");
        let mut wrong = fields.to_vec();
        wrong.push(("csrf_token", "0000000000000000000000000000000000000000000000000000000000000000"));
        assert_eq!(app.post_form(path, &wrong).await.status(), Status::Forbidden, "{path} with a wrong token");
    }
    // Nothing was changed by any of them.
    let keys = text(app.client.get(format!("/websites/{site}/keys")).dispatch().await).await;
    assert!(keys.contains(&key_id.to_string()));
    assert_eq!(app.client.get("/websites").dispatch().await.status(), Status::Ok, "still logged in");
}

/// Posts a form with the session's cookie, its CSRF token, and the given extra headers.
async fn post_with(app: &TestApp, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Status {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", crate::browser::enc(v))).collect();
    let mut req = app.client.post(path.to_owned()).header(ContentType::Form).body(body.join("&"));
    for (name, value) in headers {
        req.add_header(Header::new(name.to_string(), value.to_string()));
    }
    req.dispatch().await.status()
}

#[rocket::async_test]
async fn a_session_write_another_site_sends_is_refused_even_with_the_token() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;
    let keys = format!("/websites/{site}/keys");
    let form = [("name", "from elsewhere"), ("csrf_token", csrf.as_str())];

    let evil = post_with(&app, &keys, &form, &[("Origin", "https://evil.example")]).await;
    assert_eq!(evil, Status::Forbidden);
    let cross = post_with(&app, &keys, &form, &[("Sec-Fetch-Site", "cross-site")]).await;
    assert_eq!(cross, Status::Forbidden);
    let opaque = post_with(&app, &keys, &form, &[("Origin", "null")]).await;
    assert_eq!(opaque, Status::Forbidden);
    let page = text(app.client.get(keys.clone()).dispatch().await).await;
    assert!(!page.contains("from elsewhere"), "no key was made");

    let same =
        [("Origin", "http://revlink.test:8000"), ("Host", "revlink.test:8000"), ("Sec-Fetch-Site", "same-origin")];
    assert_eq!(post_with(&app, &keys, &form, &same).await, Status::SeeOther, "the page's own form");

    // The probe's gap: a JSON route with the session cookie and a form body carrying no token.
    let sync = format!("/api/v1/admin/websites/{site}/integrations/stripe/sync");
    let probe = app.client.post(sync.clone()).header(ContentType::Form).body("x=y").dispatch().await;
    let status = probe.status();
    assert_eq!(status, Status::Forbidden, "{}", text(probe).await);
    let api = app
        .client
        .get(format!("/api/v1/admin/websites/{site}/apikeys"))
        .header(Header::new("Origin", "https://evil.example"))
        .dispatch()
        .await;
    assert_eq!(api.status(), Status::Ok, "reads are not writes");
}
