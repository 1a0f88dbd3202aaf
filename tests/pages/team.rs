//! The team page: an invitation link creates the account and joins the website, once.

use rocket::http::Status;

use crate::browser::{PASSWORD, location, text};
use crate::helpers::TestApp;

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
