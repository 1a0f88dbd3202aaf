//! Revocation takes effect on the very next request. Authenticated `dft_` tokens, `df_` keys and
//! website roles are cached for 30 s (`auth_cache`), so each test first uses the credential (and
//! checks that it is now in the cache), then revokes it through the API or a settings page, and
//! shows that the next request with it is refused: no TTL window. Browser sessions are not cached;
//! their tests show that an old session cookie stops working at once.

use rocket::http::{Cookie, Method, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::json;

use crate::browser::{PASSWORD, location, text};
use crate::helpers::{TestApp, assert_error};
use revlink::auth::guards::SESSION_COOKIE;
use revlink::db::credentials;
use revlink::domain::Actor;
use revlink::domain::{ObjectId, PermissionSet, Role};

const NEW_PASSWORD: &str = "a new long password";

/// The raw secret a page shows once (`secret_once.html`).
fn secret_in(html: &str) -> String {
    let marker = "id=\"raw-secret\" readonly value=\"";
    let at = html.find(marker).expect("a new secret on the page") + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// The session cookie in the browser's jar, as the browser would send it back.
fn session_cookie(app: &TestApp) -> String {
    app.client.cookies().get(SESSION_COOKIE).expect("a session cookie").value().to_owned()
}

/// A GET sent with this session cookie, whatever the jar holds (a request's cookie replaces the
/// jar's of the same name).
async fn get_with_session<'a>(app: &'a TestApp, path: &str, cookie: &str) -> LocalResponse<'a> {
    app.client.get(path.to_owned()).cookie(Cookie::new(SESSION_COOKIE, cookie.to_owned())).dispatch().await
}

/// A full-access `dft_` token: its id and raw value.
fn token_with_id(app: &TestApp, user: &ObjectId) -> (ObjectId, String) {
    let view = app
        .state()
        .db
        .with_conn(|c| credentials::create_access_token(c, user, None, &PermissionSet::all(), &[], &Actor::cli()))
        .expect("token");
    (view.id, view.key.expect("raw token"))
}

/// A `df_` key of the website: its id and raw value.
fn key_with_id(app: &TestApp, website: &ObjectId) -> (ObjectId, String) {
    let view =
        app.state().db.with_conn(|c| credentials::create_website_key(c, website, None, &Actor::cli())).expect("key");
    (view.id, view.key.expect("raw key"))
}

/// Uses the credential on `path` (200), after which it must be in the cache.
async fn warm(app: &TestApp, path: &str, raw: &str) {
    let reply = app.get(path, raw).await;
    assert_eq!(reply.status.code, 200, "warm-up GET {path}: {}", reply.body);
    assert!(app.state().credential_is_cached(raw), "the credential is cached after its use");
}

/// Uses a member's token on the website (200), after which their role must be in the cache.
async fn warm_member(app: &TestApp, path: &str, raw: &str, website: &ObjectId, member: &ObjectId) {
    warm(app, path, raw).await;
    assert_eq!(app.state().cached_role(website, member), Some(Role::Member), "the role is cached after its use");
}

// ---------------------------------------------------------------------------------------------
// Through the JSON API, the owner's bearer token revoking.
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn api_deleting_an_access_token_refuses_it_on_the_next_request() {
    // Arrange
    let app = TestApp::new().await;
    let (owner, _site, owner_token) = app.owner_with_site();
    let (id, second) = token_with_id(&app, &owner);
    warm(&app, "/api/v1/admin/websites", &second).await;

    // Act
    let deleted =
        app.send(Method::Delete, &format!("/api/v1/admin/access-tokens/{id}"), Some(&owner_token), None).await;

    // Assert
    assert_eq!(deleted.status.code, 200, "{}", deleted.body);
    assert_error(&app.get("/api/v1/admin/websites", &second).await, 401, "Invalid token");
    assert_eq!(app.get("/api/v1/admin/websites", &owner_token).await.status.code, 200, "only that token went");
}

#[rocket::async_test]
async fn api_deleting_a_website_key_refuses_it_on_the_next_request() {
    // Arrange
    let app = TestApp::new().await;
    let (_owner, site, owner_token) = app.owner_with_site();
    let (id, key) = key_with_id(&app, &site);
    let (_, other_key) = key_with_id(&app, &site);
    warm(&app, "/api/v1/admin/websites", &key).await;
    warm(&app, "/api/v1/admin/websites", &other_key).await;

    // Act
    let deleted = app
        .send(Method::Delete, &format!("/api/v1/admin/websites/{site}/apikeys/{id}"), Some(&owner_token), None)
        .await;

    // Assert
    assert_eq!(deleted.status.code, 200, "{}", deleted.body);
    assert_error(&app.get("/api/v1/admin/websites", &key).await, 401, "Invalid token");
    assert_eq!(app.get("/api/v1/admin/websites", &other_key).await.status.code, 200, "the website's other key stays");
}

#[rocket::async_test]
async fn api_rolling_a_website_key_refuses_the_old_value_at_once_and_accepts_the_new() {
    // Arrange
    let app = TestApp::new().await;
    let (_owner, site, owner_token) = app.owner_with_site();
    let (id, old) = key_with_id(&app, &site);
    warm(&app, "/api/v1/admin/websites", &old).await;

    // Act
    let rolled =
        app.send(Method::Put, &format!("/api/v1/admin/websites/{site}/apikeys/{id}"), Some(&owner_token), None).await;

    // Assert
    assert_eq!(rolled.status.code, 200, "{}", rolled.body);
    let new = rolled.body["data"][0]["key"].as_str().expect("the new raw key").to_owned();
    assert_ne!(new, old);
    assert_error(&app.get("/api/v1/admin/websites", &old).await, 401, "Invalid token");
    let with_new = app.get("/api/v1/admin/websites", &new).await;
    assert_eq!(with_new.status.code, 200, "{}", with_new.body);
    assert_eq!(with_new.body["data"][0]["_id"], site.as_str(), "the same key of the same website");
}

#[rocket::async_test]
async fn api_removing_a_member_refuses_their_token_on_the_next_request() {
    // Arrange
    let app = TestApp::new().await;
    let (_owner, site, owner_token) = app.owner_with_site();
    let member = app.user("member@example.com");
    app.member(&site, &member, Role::Member);
    let member_token = app.full_token(&member);
    let path = format!("/api/v1/admin/websites/{site}");
    warm_member(&app, &path, &member_token, &site, &member).await;

    // Act
    let body = json!({ "userId": member }).to_string();
    let removed = app.send(Method::Delete, &format!("{path}/team"), Some(&owner_token), Some(&body)).await;

    // Assert
    assert_eq!(removed.status.code, 200, "{}", removed.body);
    // The guard answers a non-member as if the website did not exist.
    assert_error(&app.get(&path, &member_token).await, 404, "Website not found");
    assert_eq!(app.get(&path, &owner_token).await.status.code, 200, "the owner keeps the website");
}

// ---------------------------------------------------------------------------------------------
// Through the settings pages, a logged-in owner revoking with the session's CSRF token.
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn page_revoking_a_token_refuses_it_on_the_next_request() {
    // Arrange
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let (id, token) = token_with_id(&app, &me);
    warm(&app, "/api/v1/admin/websites", &token).await;
    let csrf = app.login("me@example.com").await;

    // Act
    let revoked = app.post_form(&format!("/account/tokens/{id}/revoke"), &[("csrf_token", &csrf)]).await;

    // Assert
    assert_eq!((revoked.status(), location(&revoked)), (Status::SeeOther, "/account/tokens".into()));
    assert!(text(app.client.get("/account/tokens").dispatch().await).await.contains("Token revoked"));
    assert_error(&app.get("/api/v1/admin/websites", &token).await, 401, "Invalid token");
}

#[rocket::async_test]
async fn page_deleting_a_website_key_refuses_it_on_the_next_request() {
    // Arrange
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let (id, key) = key_with_id(&app, &site);
    warm(&app, "/api/v1/admin/websites", &key).await;
    let csrf = app.login("me@example.com").await;

    // Act
    let deleted = app.post_form(&format!("/websites/{site}/keys/{id}/delete"), &[("csrf_token", &csrf)]).await;

    // Assert
    assert_eq!((deleted.status(), location(&deleted)), (Status::SeeOther, format!("/websites/{site}/keys")));
    assert!(text(app.client.get(format!("/websites/{site}/keys")).dispatch().await).await.contains("Key deleted"));
    assert_error(&app.get("/api/v1/admin/websites", &key).await, 401, "Invalid token");
}

#[rocket::async_test]
async fn page_rolling_a_website_key_refuses_the_old_value_and_accepts_the_new() {
    // Arrange
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let (id, old) = key_with_id(&app, &site);
    warm(&app, "/api/v1/admin/websites", &old).await;
    let csrf = app.login("me@example.com").await;

    // Act
    let rolled = app.post_form(&format!("/websites/{site}/keys/{id}/roll"), &[("csrf_token", &csrf)]).await;

    // Assert
    assert_eq!(rolled.status(), Status::SeeOther, "Post/Redirect/Get: the next view shows the new key once");
    let shown = location(&rolled);
    let shown = shown.split('#').next().unwrap_or_default();
    let new = secret_in(&text(app.client.get(shown.to_owned()).dispatch().await).await);
    assert!(new.starts_with("df_") && new != old, "{new}");
    assert_error(&app.get("/api/v1/admin/websites", &old).await, 401, "Invalid token");
    let with_new = app.get("/api/v1/admin/websites", &new).await;
    assert_eq!(with_new.status.code, 200, "{}", with_new.body);
    assert_eq!(with_new.body["data"][0]["_id"], site.as_str());
}

#[rocket::async_test]
async fn page_removing_a_member_refuses_their_token_on_the_next_request() {
    // Arrange
    let app = TestApp::new().await;
    let owner = app.user_with_password("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let member = app.user("member@example.com");
    app.member(&site, &member, Role::Member);
    let member_token = app.full_token(&member);
    let path = format!("/api/v1/admin/websites/{site}");
    warm_member(&app, &path, &member_token, &site, &member).await;
    let csrf = app.login("owner@example.com").await;

    // Act
    let removed = app
        .post_form(&format!("/websites/{site}/team/remove"), &[("user_id", member.as_str()), ("csrf_token", &csrf)])
        .await;

    // Assert
    assert_eq!((removed.status(), location(&removed)), (Status::SeeOther, format!("/websites/{site}/team")));
    let team = text(app.client.get(format!("/websites/{site}/team")).dispatch().await).await;
    assert!(team.contains("Member removed") && !team.contains("member@example.com"), "{team}");
    assert_error(&app.get(&path, &member_token).await, 404, "Website not found");
}

#[rocket::async_test]
async fn page_deleting_a_website_refuses_its_keys_and_its_members_at_once() {
    // Arrange
    let app = TestApp::new().await;
    let owner = app.user_with_password("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let (_, key) = key_with_id(&app, &site);
    let member = app.user("member@example.com");
    app.member(&site, &member, Role::Member);
    let member_token = app.full_token(&member);
    // The team list reads only by website id: with a stale role it would answer 200 and an empty list.
    let team = format!("/api/v1/admin/websites/{site}/team");
    warm(&app, "/api/v1/admin/websites", &key).await;
    warm_member(&app, &team, &member_token, &site, &member).await;
    let csrf = app.login("owner@example.com").await;

    // Act
    let deleted = app
        .post_form(&format!("/websites/{site}/delete"), &[("domain", "shop.example.com"), ("csrf_token", &csrf)])
        .await;

    // Assert
    assert_eq!((deleted.status(), location(&deleted)), (Status::SeeOther, "/websites".into()));
    assert_error(&app.get("/api/v1/admin/websites", &key).await, 401, "Invalid token");
    assert_error(&app.get(&team, &member_token).await, 404, "Website not found");
}

// ---------------------------------------------------------------------------------------------
// Browser sessions: looked up in the database on every request.
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn logout_ends_the_session_for_its_old_cookie() {
    // Arrange
    let app = TestApp::new().await;
    app.user_with_password("me@example.com");
    let csrf = app.login("me@example.com").await;
    let cookie = session_cookie(&app);
    assert_eq!(get_with_session(&app, "/websites", &cookie).await.status(), Status::Ok, "the cookie opens the pages");
    assert_eq!(get_with_session(&app, "/api/v1/admin/websites", &cookie).await.status(), Status::Ok, "and the API");

    // Act
    let out = app.post_form("/logout", &[("csrf_token", &csrf)]).await;

    // Assert
    assert_eq!((out.status(), location(&out)), (Status::SeeOther, "/login".into()));
    // A browser that kept the cookie (or anyone who copied it) is sent to the login page.
    let page = get_with_session(&app, "/websites", &cookie).await;
    assert_eq!((page.status(), location(&page)), (Status::SeeOther, "/login?next=%2Fwebsites".into()));
    let api = get_with_session(&app, "/api/v1/admin/websites", &cookie).await;
    assert_eq!(api.status(), Status::Unauthorized);
    assert!(text(api).await.contains("Missing bearer token"));
}

#[rocket::async_test]
async fn a_password_change_ends_the_users_other_sessions_at_once() {
    // Arrange: two sessions of the same user, as two browsers would hold them.
    let app = TestApp::new().await;
    app.user_with_password("me@example.com");
    app.login("me@example.com").await;
    let other = session_cookie(&app);
    let csrf = app.login("me@example.com").await;
    let this = session_cookie(&app);
    assert_ne!(other, this, "two sessions");
    assert_eq!(get_with_session(&app, "/websites", &other).await.status(), Status::Ok, "the other session works");
    assert_eq!(get_with_session(&app, "/websites", &this).await.status(), Status::Ok, "this session works");

    // Act: the password is changed in this session (the jar's).
    let changed = app
        .post_form("/account/password", &[("current", PASSWORD), ("new", NEW_PASSWORD), ("csrf_token", &csrf)])
        .await;

    // Assert
    assert_eq!((changed.status(), location(&changed)), (Status::SeeOther, "/account/password".into()));
    let refused = get_with_session(&app, "/websites", &other).await;
    assert_eq!((refused.status(), location(&refused)), (Status::SeeOther, "/login?next=%2Fwebsites".into()));
    let api = get_with_session(&app, "/api/v1/admin/websites", &other).await;
    assert_eq!(api.status(), Status::Unauthorized, "the other session is gone for the API too");
    assert_eq!(get_with_session(&app, "/websites", &this).await.status(), Status::Ok, "this session stays");
}
