//! The settings pages: status, redirects, flash messages, CSRF, roles and escaping. The app's
//! client is one browser with one cookie jar.

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;

use crate::helpers::TestApp;
use revlink::crypto::hash_password;
use revlink::db::users;
use revlink::domain::{ObjectId, Role};

const PASSWORD: &str = "correct horse battery";

fn location(res: &LocalResponse<'_>) -> String {
    res.headers().get_one("Location").unwrap_or_default().to_owned()
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").expect("a csrf field") + 25;
    html[at..at + 64].to_owned()
}

async fn text(res: LocalResponse<'_>) -> String {
    res.into_string().await.unwrap_or_default()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl TestApp {
    fn user_with_password(&self, email: &str) -> ObjectId {
        let hash = hash_password(PASSWORD).unwrap();
        self.state().db.with_conn(|c| users::create(c, email, None, Some(&hash))).unwrap()
    }

    /// Logs the browser in; answers its CSRF token.
    async fn login(&self, email: &str) -> String {
        let res = self
            .client
            .post("/login")
            .header(ContentType::Form)
            .body(format!("email={}&password={}", enc(email), enc(PASSWORD)))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::SeeOther, "login of {email}: {}", text(res).await);
        csrf_in(&text(self.client.get("/websites").dispatch().await).await)
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
        self.client.post(path.to_owned()).header(ContentType::Form).body(body.join("&")).dispatch().await
    }
}

#[rocket::async_test]
async fn first_run_setup_needs_the_printed_code_and_logs_the_owner_in() {
    let app = TestApp::new().await;
    let home = app.client.get("/").dispatch().await;
    assert_eq!((home.status(), location(&home)), (Status::SeeOther, "/setup".into()));
    let refused = app.client.get("/setup?code=guess").dispatch().await;
    assert_eq!(refused.status(), Status::Forbidden);
    assert!(text(refused).await.contains("This setup link is not valid"));

    let code = app.state().setup.0.lock().unwrap().clone().expect("a code while no user exists");
    let page = app.client.get(format!("/setup?code={code}")).dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    let bad = app
        .post_form(
            "/setup",
            &[
                ("code", &code),
                ("email", "me@example.com"),
                ("name", ""),
                ("password", "short"),
                ("domain", "shop.example.com"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    assert!(text(bad).await.contains("at least 8 characters"), "a bad field re-renders the form with its message");
    let done = app
        .post_form(
            "/setup",
            &[
                ("code", &code),
                ("email", "me@example.com"),
                ("name", "Me"),
                ("password", PASSWORD),
                ("domain", "shop.example.com"),
                ("timezone", "Europe/Berlin"),
            ],
        )
        .await;
    assert_eq!(done.status(), Status::SeeOther);
    assert!(location(&done).ends_with("/integrations"), "{}", location(&done));
    let list = text(app.client.get("/websites").dispatch().await).await;
    assert!(list.contains("shop.example.com") && list.contains("me@example.com"), "logged in as the owner");

    assert!(app.state().setup.0.lock().unwrap().is_none(), "the code is used up");
    let again = app.client.get(format!("/setup?code={code}")).dispatch().await;
    assert_eq!((again.status(), location(&again)), (Status::SeeOther, "/login".into()));
}

#[rocket::async_test]
async fn login_logout_redirects_and_throttling() {
    let app = TestApp::new().await;
    app.user_with_password("me@example.com");
    let page = app.client.get("/websites").dispatch().await;
    assert_eq!((page.status(), location(&page)), (Status::SeeOther, "/login?next=%2Fwebsites".into()));

    let wrong = app.post_form("/login", &[("email", "me@example.com"), ("password", "nope"), ("next", "/")]).await;
    assert_eq!(wrong.status(), Status::Ok);
    assert!(text(wrong).await.contains("Wrong email or password"));
    let unknown = app.post_form("/login", &[("email", "who@example.com"), ("password", "nope")]).await;
    assert!(text(unknown).await.contains("Wrong email or password"), "unknown addresses look the same");

    let ok = app
        .post_form("/login", &[("email", "Me@Example.com"), ("password", PASSWORD), ("next", "/account/tokens")])
        .await;
    assert_eq!((ok.status(), location(&ok)), (Status::SeeOther, "/account/tokens".into()));
    let cookie = ok.headers().get("Set-Cookie").find(|c| c.starts_with("revlink_session=")).unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let csrf = csrf_in(&text(app.client.get("/websites").dispatch().await).await);

    let no_csrf = app.post_form("/logout", &[]).await;
    assert_eq!(no_csrf.status(), Status::Forbidden);
    let out = app.post_form("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(location(&out), "/login");
    assert!(text(app.client.get("/login").dispatch().await).await.contains("You are logged out"), "flash message");
    assert_eq!(app.client.get("/websites").dispatch().await.status(), Status::SeeOther);

    // Five attempts a minute per account; past that nothing is checked, even the right password.
    for _ in 0..4 {
        app.post_form("/login", &[("email", "me@example.com"), ("password", "nope")]).await;
    }
    let blocked = app.post_form("/login", &[("email", "me@example.com"), ("password", PASSWORD)]).await;
    assert!(text(blocked).await.contains("Too many sign-in attempts"));
    let other_page =
        app.post_form("/login", &[("email", "evil.com@x.io"), ("password", "x"), ("next", "//evil.com")]).await;
    assert_eq!(other_page.status(), Status::Ok);
}

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
async fn user_text_is_escaped() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;
    let saved = app
        .post_form(
            &format!("/websites/{site}"),
            &[
                ("name", "<script>alert(1)</script>"),
                ("domain", "shop.example.com"),
                ("timezone", "UTC"),
                ("currency", "eur"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(saved.status(), Status::SeeOther);
    let page = text(app.client.get(format!("/websites/{site}")).dispatch().await).await;
    assert!(page.contains("Settings saved"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"), "escaped");
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(page.contains("value=\"EUR\""));
}

#[rocket::async_test]
async fn viewers_see_no_write_forms_and_are_refused_writes() {
    let app = TestApp::new().await;
    let owner = app.user("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let viewer = app.user_with_password("viewer@example.com");
    app.member(&site, &viewer, Role::Viewer);
    let csrf = app.login("viewer@example.com").await;

    let keys = app.client.get(format!("/websites/{site}/keys")).dispatch().await;
    assert_eq!(keys.status(), Status::Ok);
    assert!(!text(keys).await.contains("Create key"));
    let create = app.post_form(&format!("/websites/{site}/keys"), &[("name", "x"), ("csrf_token", &csrf)]).await;
    assert_eq!(create.status(), Status::Forbidden);
    assert!(text(create).await.contains("can only read"));

    let integrations = text(app.client.get(format!("/websites/{site}/integrations")).dispatch().await).await;
    assert!(!integrations.contains("Restricted key"), "no connect form for a viewer");
    let team = text(app.client.get(format!("/websites/{site}/team")).dispatch().await).await;
    assert!(team.contains("owner@example.com") && !team.contains("Create invitation"));
    let invite = app
        .post_form(
            &format!("/websites/{site}/team"),
            &[("email", "x@example.com"), ("role", "viewer"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(invite.status(), Status::Forbidden);
    assert!(text(invite).await.contains("Only the website"));

    let other = app.website(&owner, "other.example.com");
    let hidden = app.client.get(format!("/websites/{other}")).dispatch().await;
    assert_eq!(hidden.status(), Status::NotFound);
}

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

#[rocket::async_test]
async fn an_invitation_link_creates_the_account_and_joins() {
    let app = TestApp::new().await;
    let owner = app.user_with_password("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let csrf = app.login("owner@example.com").await;
    let invited = text(
        app.post_form(
            &format!("/websites/{site}/team"),
            &[("email", "new@example.com"), ("role", "member"), ("csrf_token", &csrf)],
        )
        .await,
    )
    .await;
    // Tera escapes `/` in HTML; the browser reads the attribute back as the plain URL.
    let invited = invited.replace("&#x2F;", "/");
    assert!(invited.contains("value=\"http://127.0.0.1:8000/invite/"), "an absolute link to send");
    let at = invited.find("/invite/").expect("the invite link");
    let link = invited[at..at + 8 + 48].to_owned();
    app.post_form("/logout", &[("csrf_token", &csrf)]).await;

    let page = text(app.client.get(link.clone()).dispatch().await).await;
    assert!(page.contains("Create your account"));
    let short = text(app.post_form(&link, &[("name", "New Person"), ("password", "short")]).await).await;
    assert!(
        short.contains("Invalid password") && short.contains("Create your account"),
        "the same form, with the reason"
    );
    let joined = app.post_form(&link, &[("name", "New Person"), ("password", PASSWORD)]).await;
    assert_eq!((joined.status(), location(&joined)), (Status::SeeOther, format!("/websites/{site}")));
    let general = text(app.client.get(format!("/websites/{site}")).dispatch().await).await;
    assert!(general.contains("Your role: member"));
    assert_eq!(app.client.get(link).dispatch().await.status(), Status::NotFound, "a link works once");
}

#[rocket::async_test]
async fn password_change_and_security_headers() {
    let app = TestApp::new().await;
    app.user_with_password("me@example.com");
    let csrf = app.login("me@example.com").await;
    let wrong = app
        .post_form("/account/password", &[("current", "nope"), ("new", "a new long password"), ("csrf_token", &csrf)])
        .await;
    assert!(text(wrong).await.contains("The current password is wrong"));
    let ok = app
        .post_form("/account/password", &[("current", PASSWORD), ("new", "a new long password"), ("csrf_token", &csrf)])
        .await;
    assert_eq!(ok.status(), Status::SeeOther);

    let res = app.client.get("/account/password").dispatch().await;
    let csp = res.headers().get_one("Content-Security-Policy").unwrap().to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline")
    );
    assert_eq!(res.headers().get_one("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(res.headers().get_one("Referrer-Policy"), Some("same-origin"));
    let page = text(res).await;
    assert!(!page.contains("<script>") && !page.contains("style="), "no inline script or style");

    let css = app.client.get("/static/style.css").dispatch().await;
    assert_eq!(css.content_type(), Some(ContentType::CSS));
    assert_eq!(app.client.get("/static/nope.css").dispatch().await.status(), Status::NotFound);
}

#[rocket::async_test]
async fn the_stripe_form_without_javascript_posts_to_the_api_route() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.stripe.healthy(true, &[(500, "gbp")]).await;
    let csrf = app.login("me@example.com").await;
    let route = format!("/api/v1/admin/websites/{site}/integrations/stripe");
    let page = format!("/websites/{site}/integrations");

    let refused =
        app.post_form(&route, &[("stripeRak", "rk_live_51AbcdefGhijklmnopQrst"), ("csrf_token", "nope")]).await;
    assert_eq!(refused.status(), Status::Forbidden);

    let bad = app.post_form(&route, &[("stripeRak", "pk_live_123"), ("csrf_token", &csrf)]).await;
    assert_eq!((bad.status(), location(&bad)), (Status::SeeOther, page.clone()));
    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(
        shown.contains("aria-live=\"polite\">Invalid key format (must start with rk_)</p>"),
        "the API's message next to the field"
    );

    let ok = app.post_form(&route, &[("stripeRak", "rk_live_51AbcdefGhijklmnopQrst"), ("csrf_token", &csrf)]).await;
    assert_eq!((ok.status(), location(&ok)), (Status::SeeOther, page.clone()));
    let shown = text(app.client.get(page).dispatch().await).await;
    assert!(shown.contains("Stripe connected successfully (GBP)"));
    assert!(shown.contains("<strong>Connected</strong>") && shown.contains("currency <strong>GBP</strong>"));
    assert!(!shown.contains("rk_live_51AbcdefGhijklmnopQrst"));
}

#[rocket::async_test]
async fn every_page_form_refuses_a_missing_or_wrong_csrf_token() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let key = app
        .state()
        .db
        .with_conn(|c| revlink::db::credentials::create_website_key(c, &site, None, &revlink::db::audit::Actor::cli()));
    let key_id = key.unwrap().id;
    let token_id = app
        .state()
        .db
        .with_conn(|c| {
            let all = revlink::domain::PermissionSet::all();
            revlink::db::credentials::create_access_token(c, &me, None, &all, &[], &revlink::db::audit::Actor::cli())
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

#[rocket::async_test]
async fn only_the_owner_deletes_a_website_after_typing_its_domain() {
    let app = TestApp::new().await;
    let owner = app.user_with_password("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let member = app.user_with_password("member@example.com");
    app.member(&site, &member, Role::Member);
    let key = app.website_key(&site);
    assert_eq!(app.get(&format!("/api/v1/admin/websites/{site}"), &key).await.status.code, 200);

    let csrf = app.login("member@example.com").await;
    assert!(!text(app.client.get(format!("/websites/{site}")).dispatch().await).await.contains("Delete this website"));
    let refused = app
        .post_form(&format!("/websites/{site}/delete"), &[("domain", "shop.example.com"), ("csrf_token", &csrf)])
        .await;
    assert_eq!(refused.status(), Status::Forbidden);
    app.post_form("/logout", &[("csrf_token", &csrf)]).await;

    let csrf = app.login("owner@example.com").await;
    assert!(text(app.client.get(format!("/websites/{site}")).dispatch().await).await.contains("Delete this website"));
    let typo = app
        .post_form(&format!("/websites/{site}/delete"), &[("domain", "shop.example.org"), ("csrf_token", &csrf)])
        .await;
    assert!(text(typo).await.contains("Type shop.example.com exactly"));
    let gone = app
        .post_form(&format!("/websites/{site}/delete"), &[("domain", "shop.example.com"), ("csrf_token", &csrf)])
        .await;
    assert_eq!((gone.status(), location(&gone)), (Status::SeeOther, "/websites".into()));
    assert!(text(app.client.get("/websites").dispatch().await).await.contains("Website shop.example.com deleted"));
    assert_eq!(app.client.get(format!("/websites/{site}")).dispatch().await.status(), Status::NotFound);
    assert_eq!(
        app.get(&format!("/api/v1/admin/websites/{site}"), &key).await.status.code,
        401,
        "its keys went with it"
    );
}

#[rocket::async_test]
async fn the_import_shows_its_progress_and_the_revenue_page_its_payments() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.stripe.healthy(true, &[(500, "usd")]).await;
    let csrf = app.login("me@example.com").await;
    let page = format!("/websites/{site}/integrations");
    let connect = format!("/api/v1/admin/websites/{site}/integrations/stripe");
    app.post_form(&connect, &[("stripeRak", "rk_live_51AbcdefGhijklmnopQrst"), ("csrf_token", &csrf)]).await;
    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(shown.contains("Revenue import") && shown.contains("Waiting to start") && shown.contains("Sync now"));

    let started = app.post_form(&format!("{page}/stripe/sync"), &[("csrf_token", &csrf)]).await;
    assert_eq!((started.status(), location(&started)), (Status::SeeOther, page.clone()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let shown = loop {
        let shown = text(app.client.get(page.clone()).dispatch().await).await;
        if shown.contains("Up to date") {
            break shown;
        }
        assert!(std::time::Instant::now() < deadline, "the import did not finish: {shown}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(shown.contains("1 payment imported"), "{shown}");

    let revenue =
        text(app.client.get(format!("/websites/{site}/revenue?start=2024-05-01&end=2024-05-31")).dispatch().await)
            .await;
    assert!(revenue.contains("<dd><strong>29.00 USD</strong></dd>"), "net of the imported charge: {revenue}");
    assert!(revenue.contains("<code>0b5c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3</code>"), "its visitor");
    assert!(revenue.contains("<svg") && revenue.contains("class=\"net\""), "the daily chart");
    let bad = text(app.client.get(format!("/websites/{site}/revenue?start=yesterday")).dispatch().await).await;
    assert!(bad.contains("role=\"alert\">start must be a date such as "), "a bad range says what to type: {bad}");
}
