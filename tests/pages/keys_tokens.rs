//! The website keys page and the access tokens page: a creation answers 303 (Post/Redirect/Get), the page it
//! leads to shows the raw secret once, a refresh shows it is gone and creates nothing; the secret is never in a
//! URL or a cookie. Tokens ask for at least one permission and list when they were created and last used.

use rocket::http::Status;
use rocket::local::asynchronous::LocalResponse;

use crate::browser::text;
use crate::helpers::TestApp;

fn count(app: &TestApp, table: &str) -> i64 {
    app.state().db.with_conn(|c| Ok(c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)).unwrap()
}

/// Where a 303 sends the browser, as the browser asks for it (without the `#fragment`).
pub fn location(res: &LocalResponse<'_>) -> String {
    let to = crate::browser::location(res);
    to.split('#').next().unwrap_or_default().to_owned()
}

/// Every `Set-Cookie` of an answer, joined.
pub fn set_cookies(res: &LocalResponse<'_>) -> String {
    res.headers().get("Set-Cookie").collect::<Vec<_>>().join("\n")
}

/// The raw secret in a page's copy field (`value="<prefix>…"`), if the page shows one.
pub fn raw_secret(page: &str, prefix: &str) -> Option<String> {
    let at = page.find(&format!("value=\"{prefix}"))? + 7;
    Some(page[at..].split('"').next()?.to_owned())
}

#[rocket::async_test]
async fn a_new_key_is_shown_once_after_a_redirect_and_a_refresh_creates_nothing() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;
    let keys = format!("/websites/{site}/keys");

    let created = app.post_form(&keys, &[("name", "Prod"), ("csrf_token", &csrf)]).await;
    assert_eq!(created.status(), Status::SeeOther);
    let to = location(&created);
    assert!(to.starts_with(&format!("{keys}?shown=")), "{to}");
    assert!(!to.contains("df_") && !set_cookies(&created).contains("df_"), "the secret is in no URL or cookie");
    assert_eq!(count(&app, "website_keys"), 1);

    let first = app.client.get(to.clone()).dispatch().await;
    assert_eq!(first.headers().get_one("Cache-Control"), Some("no-store"));
    assert!(!set_cookies(&first).contains("df_"));
    let page = text(first).await;
    let raw = raw_secret(&page, "df_").expect("the raw key, once");
    assert!(page.contains("it is shown only once") && page.contains("Prod"));
    assert_eq!(app.get(&format!("/api/v1/admin/websites/{site}"), &raw).await.status.code, 200, "the key works");

    let again = text(app.client.get(to.clone()).dispatch().await).await;
    assert!(raw_secret(&again, "df_").is_none() && !again.contains(&raw), "a refresh does not show it again");
    assert!(again.contains("This key was shown once and is gone"), "{again}");
    assert_eq!(count(&app, "website_keys"), 1, "and creates nothing");
    assert!(again.contains("Last used") && again.contains("<time datetime="), "readable times");

    // Rolling is a creation too: its new value is shown once, the old one stops at once.
    let at = again.find(&format!("{keys}/")).unwrap() + keys.len() + 1;
    let key_id = &again[at..at + 24];
    let rolled = app.post_form(&format!("{keys}/{key_id}/roll"), &[("csrf_token", &csrf)]).await;
    assert_eq!(rolled.status(), Status::SeeOther);
    let to = location(&rolled);
    let page = text(app.client.get(to.clone()).dispatch().await).await;
    let new_raw = raw_secret(&page, "df_").expect("the rolled key, once");
    assert_ne!(new_raw, raw);
    assert_eq!(app.get(&format!("/api/v1/admin/websites/{site}"), &raw).await.status.code, 401);
    assert!(raw_secret(&text(app.client.get(to).dispatch().await).await, "df_").is_none());
    assert_eq!(count(&app, "website_keys"), 1);
}

#[rocket::async_test]
async fn a_kept_secret_is_only_for_the_session_that_created_it() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;
    let created = app.post_form(&format!("/websites/{site}/keys"), &[("name", "x"), ("csrf_token", &csrf)]).await;
    let to = location(&created);
    app.post_form("/logout", &[("csrf_token", &csrf)]).await;
    app.login("me@example.com").await;
    let page = text(app.client.get(to).dispatch().await).await;
    assert!(raw_secret(&page, "df_").is_none(), "another session does not get it");
    assert!(page.contains("shown once and is gone"));
}

#[rocket::async_test]
async fn a_token_needs_at_least_one_permission_and_nothing_is_made_without() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;

    let form = text(app.client.get("/account/tokens").dispatch().await).await;
    for offered in ["analytics:read", "payments:write", "settings:write", "api-keys:write"] {
        assert!(form.contains(&format!("value=\"{offered}\"")), "{offered} is offered");
    }
    for missing in ["funnels:read", "alerts:write", "goals:read", "value=\"*\""] {
        assert!(!form.contains(missing), "{missing}: no feature of revlink uses it");
    }
    assert!(form.contains("Sending from your server") && form.contains("record goals"), "grouped, with notes");

    let refused = app
        .post_form("/account/tokens", &[("name", "ci bot"), ("websites", site.as_str()), ("csrf_token", &csrf)])
        .await;
    assert_eq!(refused.status(), Status::Ok);
    let page = text(refused).await;
    assert!(page.contains("Tick at least one permission"), "{page}");
    assert!(page.contains("value=\"ci bot\""), "the name as typed");
    assert!(page.contains(&format!("value=\"{site}\" checked")), "the website as ticked");
    assert_eq!(count(&app, "access_tokens"), 0, "no token, least of all a full-power one");
}

#[rocket::async_test]
async fn a_new_token_is_shown_once_then_lists_when_it_was_created_and_last_used() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;
    let fields = [
        ("name", "ci"),
        ("permissions", "settings:read"),
        ("permissions", "websites:read"),
        ("websites", site.as_str()),
        ("csrf_token", csrf.as_str()),
    ];
    let created = app.post_form("/account/tokens", &fields).await;
    assert_eq!(created.status(), Status::SeeOther);
    let to = location(&created);
    assert!(to.starts_with("/account/tokens?shown=") && !to.contains("dft_"), "{to}");
    assert!(!set_cookies(&created).contains("dft_"));
    let page = text(app.client.get(to.clone()).dispatch().await).await;
    let raw = raw_secret(&page, "dft_").expect("the raw token, once");
    assert!(page.contains("settings:read, websites:read") && page.contains("data-label=\"Websites\">shop.example.com"));
    assert!(page.contains("data-label=\"Last used\">never"), "not used yet");

    let again = text(app.client.get(to).dispatch().await).await;
    assert!(!again.contains(&raw) && again.contains("This token was shown once and is gone"));
    assert_eq!(count(&app, "access_tokens"), 1, "a refresh creates nothing");

    assert_eq!(app.get("/api/v1/admin/websites", &raw).await.status.code, 200);
    let listed = text(app.client.get("/account/tokens").dispatch().await).await;
    assert!(!listed.contains("data-label=\"Last used\">never"), "its use is recorded: {listed}");
    assert!(listed.contains("data-label=\"Created\"><time datetime="), "readable times");

    let at = listed.find("/account/tokens/").unwrap() + 16;
    let token_id = &listed[at..at + 24];
    let revoked = app.post_form(&format!("/account/tokens/{token_id}/revoke"), &[("csrf_token", &csrf)]).await;
    assert_eq!(revoked.status(), Status::SeeOther);
    assert_eq!(app.get("/api/v1/admin/websites", &raw).await.status.code, 401, "revoked at once");
}
