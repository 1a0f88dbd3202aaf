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
