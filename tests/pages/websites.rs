//! The website pages: user text escaped, the install snippet, what a viewer sees and may do, and deleting a
//! website.

use rocket::http::Status;

use crate::browser::{location, text};
use crate::helpers::TestApp;
use revlink::domain::Role;

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
async fn the_general_page_shows_the_tracking_script_snippet_on_this_server() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.login("me@example.com").await;
    let page = text(app.client.get(format!("/websites/{site}")).dispatch().await).await;
    // The values are escaped by Tera (a `/` becomes `&#x2F;`); the quotes are the template's own.
    let src = format!("{}/js/script.js", app.state().base_url).replace('/', "&#x2F;");
    assert!(page.contains("&lt;script defer data-website-id=\"dfid_"), "{page}");
    assert!(page.contains(&format!("data-domain=\"shop.example.com\" src=\"{src}\"&gt;&lt;/script&gt;")), "{page}");
}

#[rocket::async_test]
async fn viewers_see_no_write_forms_and_are_refused_writes() {
    let app = TestApp::new().await;
    let owner = app.user("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let viewer = app.user_with_password("viewer@example.com");
    app.member(&site, &viewer, Role::Viewer);
    let csrf = app.login("viewer@example.com").await;

    let general = text(app.client.get(format!("/websites/{site}")).dispatch().await).await;
    assert!(!general.contains("<input id=\"domain\"") && !general.contains("disabled"), "no disabled form: {general}");
    assert!(
        general.contains("<dt>Domain</dt><dd>shop.example.com</dd>")
            && general.contains("<dt>Time zone</dt><dd>UTC</dd>")
    );
    assert!(
        general.contains(
            "As a viewer you can read these settings; the owner (owner@example.com) or a member can change them"
        ),
        "who can: {general}"
    );

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
