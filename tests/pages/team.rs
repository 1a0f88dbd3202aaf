//! The team page: an invitation link is shown once after a redirect, creates the account and joins the website,
//! once; pending invitations are listed, and the owner (only) sends them again with a new link or withdraws them.

use rocket::http::Status;

use crate::browser::{PASSWORD, text};
use crate::helpers::TestApp;
use crate::keys_tokens::{location, raw_secret, set_cookies};
use revlink::domain::Role;

fn invitations(app: &TestApp) -> i64 {
    app.state().db.with_conn(|c| Ok(c.query_row("SELECT COUNT(*) FROM invitations", [], |r| r.get(0))?)).unwrap()
}

/// The invitation link a page shows once, as a path (`/invite/…`).
fn shown_link(page: &str) -> Option<String> {
    // Tera escapes `/` in HTML; the browser reads the attribute back as the plain URL.
    let page = page.replace("&#x2F;", "/");
    let link = raw_secret(&page, "http://127.0.0.1:8000/invite/")?;
    Some(link.trim_start_matches("http://127.0.0.1:8000").to_owned())
}

/// Invites `email` as the logged-in owner; answers the page the redirect leads to, and its address.
async fn invite(app: &TestApp, site: &str, email: &str, csrf: &str) -> (String, String) {
    let sent = app
        .post_form(&format!("/websites/{site}/team"), &[("email", email), ("role", "member"), ("csrf_token", csrf)])
        .await;
    assert_eq!(sent.status(), Status::SeeOther);
    assert!(!set_cookies(&sent).contains("/invite/"), "the link is in no cookie");
    let to = location(&sent);
    assert!(to.starts_with(&format!("/websites/{site}/team?shown=")) && !to.contains("invite"), "{to}");
    (text(app.client.get(to.clone()).dispatch().await).await, to)
}

#[rocket::async_test]
async fn an_invitation_link_creates_the_account_and_joins() {
    let app = TestApp::new().await;
    let owner = app.user_with_password("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let csrf = app.login("owner@example.com").await;
    let (page, _) = invite(&app, site.as_str(), "new@example.com", &csrf).await;
    let link = shown_link(&page).expect("an absolute link to send");
    assert!(page.contains("Send this link to new@example.com"));
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
async fn pending_invitations_are_listed_sent_again_with_a_new_link_and_withdrawn() {
    let app = TestApp::new().await;
    let owner = app.user_with_password("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let csrf = app.login("owner@example.com").await;
    let team = format!("/websites/{site}/team");
    let (_, shown_at) = invite(&app, site.as_str(), "new@example.com", &csrf).await;
    let first_link = {
        // The link was taken by `invite`'s view: a refresh shows it is gone, and sends nothing again.
        let again = text(app.client.get(shown_at).dispatch().await).await;
        assert!(shown_link(&again).is_none() && again.contains("This invitation link was shown once and is gone"));
        assert_eq!(invitations(&app), 1);
        again
    };
    assert!(first_link.contains("Pending invitations"));
    assert!(first_link.contains("data-label=\"Email\">new@example.com</td><td data-label=\"Role\">member</td>"));
    assert!(first_link.contains("by owner@example.com") && first_link.contains("data-label=\"Expires\"><time"));

    let at = first_link.find(&format!("{team}/invitations/")).expect("its actions") + team.len() + 13;
    let id = first_link[at..at + 24].to_owned();

    // New link: the lost one stops working, the new one is shown once.
    let renewed = app.post_form(&format!("{team}/invitations/{id}/renew"), &[("csrf_token", &csrf)]).await;
    assert_eq!(renewed.status(), Status::SeeOther);
    let page = text(app.client.get(location(&renewed)).dispatch().await).await;
    let link = shown_link(&page).expect("the new link");
    assert_eq!(app.client.get(link.clone()).dispatch().await.status(), Status::Ok, "the new link works");
    assert_eq!(invitations(&app), 1);

    // A member sees the invitation but may not withdraw it.
    let member = app.user_with_password("member@example.com");
    app.member(&site, &member, Role::Member);
    app.post_form("/logout", &[("csrf_token", &csrf)]).await;
    let member_csrf = app.login("member@example.com").await;
    let seen = text(app.client.get(team.clone()).dispatch().await).await;
    assert!(seen.contains("new@example.com") && !seen.contains("/revoke") && !seen.contains("New link</button>"));
    let refused = app.post_form(&format!("{team}/invitations/{id}/revoke"), &[("csrf_token", &member_csrf)]).await;
    assert_eq!(refused.status(), Status::Forbidden);
    let refused = app.post_form(&format!("{team}/invitations/{id}/renew"), &[("csrf_token", &member_csrf)]).await;
    assert_eq!(refused.status(), Status::Forbidden);
    assert_eq!(invitations(&app), 1);
    app.post_form("/logout", &[("csrf_token", &member_csrf)]).await;

    // The owner withdraws it: the link stops working. Without the CSRF token nothing happens.
    let csrf = app.login("owner@example.com").await;
    let forged = app.post_form(&format!("{team}/invitations/{id}/revoke"), &[]).await;
    assert_eq!(forged.status(), Status::Forbidden);
    let revoked = app.post_form(&format!("{team}/invitations/{id}/revoke"), &[("csrf_token", &csrf)]).await;
    assert_eq!((revoked.status(), location(&revoked)), (Status::SeeOther, team.clone()));
    let page = text(app.client.get(team).dispatch().await).await;
    assert!(page.contains("Invitation to new@example.com withdrawn"), "{page}");
    assert_eq!(invitations(&app), 0);
    assert_eq!(app.client.get(link).dispatch().await.status(), Status::NotFound);
}

#[rocket::async_test]
async fn an_expired_invitation_is_marked_its_link_refused_and_the_address_can_be_invited_again() {
    let app = TestApp::new().await;
    let owner = app.user_with_password("owner@example.com");
    let site = app.website(&owner, "shop.example.com");
    let csrf = app.login("owner@example.com").await;
    let (page, _) = invite(&app, site.as_str(), "late@example.com", &csrf).await;
    let link = shown_link(&page).unwrap();
    app.state()
        .db
        .with_conn(|c| Ok(c.execute("UPDATE invitations SET expires_at = '2020-01-01T00:00:00.000Z'", [])?))
        .unwrap();
    assert_eq!(app.client.get(link).dispatch().await.status(), Status::NotFound, "an expired link");
    let listed = text(app.client.get(format!("/websites/{site}/team")).dispatch().await).await;
    assert!(listed.contains("<strong>Expired</strong>"), "{listed}");

    let (page, _) = invite(&app, site.as_str(), "late@example.com", &csrf).await;
    let fresh = shown_link(&page).expect("a new invitation replaces the expired one");
    assert_eq!(app.client.get(fresh).dispatch().await.status(), Status::Ok);
    assert_eq!(invitations(&app), 1);
}
