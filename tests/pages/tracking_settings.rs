//! The tracking settings on a website's General page: saved by an owner or member, refused with what to fix
//! (nothing stored), read-only for a viewer; the install snippet follows the mode.

use rocket::http::Status;

use crate::browser::{location, text};
use crate::helpers::TestApp;
use revlink::domain::{ObjectId, Role};

fn stored(app: &TestApp, site: &ObjectId) -> (String, String, String, String) {
    let sql = format!(
        "SELECT tracking_mode, allowed_hostnames, excluded_ips, excluded_paths FROM websites WHERE id = '{site}'"
    );
    app.state()
        .db
        .with_conn(|c| Ok(c.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?))
        .unwrap()
}

#[rocket::async_test]
async fn a_member_saves_the_tracking_settings_and_the_page_shows_them() {
    let app = TestApp::new().await;
    let owner = app.user("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let member = app.user_with_password("member@example.com");
    app.member(&site, &member, Role::Member);
    let csrf = app.login("member@example.com").await;

    let saved = app
        .post_form(
            &format!("/websites/{site}/tracking"),
            &[
                ("mode", "cookieless"),
                ("allowed_hostnames", "Partner.io\r\nshop.example.net, partner.io"),
                ("excluded_ips", "203.0.113.9/24\n2001:db8::/32"),
                ("excluded_paths", "/admin/*\n/preview"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!((saved.status(), location(&saved)), (Status::SeeOther, format!("/websites/{site}#tracking")));
    assert_eq!(
        stored(&app, &site),
        (
            "cookieless".into(),
            "partner.io,shop.example.net".into(),
            "203.0.113.0/24\n2001:db8::/32".into(),
            "/admin/*\n/preview".into()
        )
    );
    let page = text(app.client.get(format!("/websites/{site}")).dispatch().await).await;
    assert!(page.contains("Tracking settings saved"), "{page}");
    assert!(page.contains("value=\"cookieless\" checked"), "{page}");
    assert!(page.contains("&#x2F;js&#x2F;script.cookieless.js\"&gt;"), "the snippet names the cookieless script");
    assert!(page.contains(">partner.io\nshop.example.net</textarea>"), "{page}");
    assert!(page.contains(">203.0.113.0&#x2F;24\n2001:db8::&#x2F;32</textarea>"), "{page}");
    assert!(page.contains("localStorage.datafast_ignore"), "the opt-out is explained");
}

#[rocket::async_test]
async fn a_bad_value_is_refused_with_what_to_fix_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;
    let before = stored(&app, &site);
    for (field, value, says) in [
        ("excluded_ips", "203.0.113.0/24\nnot-an-ip", "&quot;not-an-ip&quot; is not an IP address or CIDR range"),
        ("excluded_paths", "admin/*", "must start with &#x2F;"),
        ("allowed_hostnames", "https://partner.io", "without a scheme"),
        ("mode", "sometimes", "choose cookie or cookieless"),
    ] {
        let mut fields = vec![("mode", "cookie"), ("excluded_paths", "/ok"), ("csrf_token", csrf.as_str())];
        fields.retain(|(name, _)| *name != field);
        fields.push((field, value));
        let refused = app.post_form(&format!("/websites/{site}/tracking"), &fields).await;
        assert_eq!(refused.status(), Status::Ok, "the page again, with the message");
        let page = text(refused).await;
        assert!(page.contains("id=\"tracking-error\"") && page.contains(says), "{field}: {page}");
        if field != "mode" {
            assert!(page.contains(&value.replace('/', "&#x2F;")), "what was typed is kept: {field}");
        }
        assert_eq!(stored(&app, &site), before, "{field}: nothing stored");
    }
}

#[rocket::async_test]
async fn a_viewer_reads_the_tracking_settings_and_may_not_change_them() {
    let app = TestApp::new().await;
    let owner = app.user("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let viewer = app.user_with_password("viewer@example.com");
    app.member(&site, &viewer, Role::Viewer);
    let csrf = app.login("viewer@example.com").await;
    let page = text(app.client.get(format!("/websites/{site}")).dispatch().await).await;
    assert!(page.contains("Excluded IP ranges") && !page.contains("Save tracking settings"), "{page}");
    assert!(page.contains("<dt>Excluded IP ranges</dt><dd>none</dd>"), "read as text: {page}");
    assert!(!page.contains("<textarea") && !page.contains("disabled"), "no disabled form: {page}");
    let refused =
        app.post_form(&format!("/websites/{site}/tracking"), &[("mode", "cookieless"), ("csrf_token", &csrf)]).await;
    assert_eq!(refused.status(), Status::Forbidden);
    assert_eq!(stored(&app, &site).0, "cookie");
}

/// Events see a saved change at once, though the website is cached for them.
#[rocket::async_test]
async fn a_saved_exclusion_applies_to_the_next_event() {
    use rocket::http::{ContentType, Header};
    let app = TestApp::new().await;
    let owner = app.user_with_password("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let csrf = app.login("owner@example.com").await;
    let tracking_id: String =
        app.state().db.with_conn(|c| Ok(c.query_row("SELECT tracking_id FROM websites", [], |r| r.get(0))?)).unwrap();
    let events = || {
        app.state()
            .db
            .with_conn(|c| Ok(c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))?))
            .unwrap()
    };
    let send = |path: &'static str| {
        let body = format!(
            r#"{{"websiteId":"{tracking_id}","href":"https://shop.example.com{path}","visitorId":"v1","sessionId":"s1","type":"pageview"}}"#
        );
        app.client
            .post("/api/events")
            .header(ContentType::JSON)
            .header(Header::new(
                "User-Agent",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
            ))
            .body(body)
            .dispatch()
    };
    assert_eq!(send("/admin/one").await.status(), Status::Ok);
    assert_eq!(events(), 1, "stored, and the website is now cached for events");
    let fields = [
        ("mode", "cookie"),
        ("allowed_hostnames", ""),
        ("excluded_ips", ""),
        ("excluded_paths", "/admin/*"),
        ("csrf_token", csrf.as_str()),
    ];
    let saved = app.post_form(&format!("/websites/{site}/tracking"), &fields).await;
    assert_eq!(saved.status(), Status::SeeOther);
    assert_eq!(send("/admin/two").await.status(), Status::Ok);
    assert_eq!(events(), 1, "the exclusion saved a moment ago applies");
}
