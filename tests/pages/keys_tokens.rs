//! The website keys page and the access tokens page: the raw secret is shown once; a revoked token stops.

use rocket::http::Status;

use crate::browser::text;
use crate::helpers::TestApp;

#[rocket::async_test]
async fn keys_and_tokens_show_the_raw_secret_once() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;

    let created = app.post_form(&format!("/websites/{site}/keys"), &[("name", "Prod"), ("csrf_token", &csrf)]).await;
    assert_eq!(created.status(), Status::Ok, "answered in place, not through a cookie");
    let page = text(created).await;
    let at = page.find("value=\"df_").expect("the raw key") + 7;
    let raw = &page[at..at + 35];
    let later = text(app.client.get(format!("/websites/{site}/keys")).dispatch().await).await;
    assert!(!later.contains(raw) && later.contains("Prod"));

    let token = app
        .post_form(
            "/account/tokens",
            &[
                ("name", "ci"),
                ("permissions", "settings:read"),
                ("permissions", "websites:read"),
                ("websites", site.as_str()),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    let page = text(token).await;
    let at = page.find("value=\"dft_").expect("the raw token") + 7;
    let raw = page[at..at + 36].to_owned();
    assert!(page.contains("settings:read, websites:read"));
    let api = app.get("/api/v1/admin/websites", &raw).await;
    assert_eq!(api.status.code, 200);
    let tokens_page = text(app.client.get("/account/tokens").dispatch().await).await;
    let at = tokens_page.find("/account/tokens/").unwrap() + 16;
    let token_id = &tokens_page[at..at + 24];
    let revoked = app.post_form(&format!("/account/tokens/{token_id}/revoke"), &[("csrf_token", &csrf)]).await;
    assert_eq!(revoked.status(), Status::SeeOther);
    assert_eq!(app.get("/api/v1/admin/websites", &raw).await.status.code, 401, "revoked at once");
}
