//! First-run setup, login and logout with their redirects and throttling, the password change and the
//! security headers every page carries.

use rocket::http::{ContentType, Status};

use crate::browser::{PASSWORD, csrf_in, location, text};
use crate::helpers::TestApp;

#[rocket::async_test]
async fn first_run_setup_needs_the_printed_code_and_logs_the_owner_in() {
    let app = TestApp::new().await;
    let home = app.client.get("/").dispatch().await;
    assert_eq!((home.status(), location(&home)), (Status::SeeOther, "/setup".into()));
    let refused = app.client.get("/setup?code=guess").dispatch().await;
    assert_eq!(refused.status(), Status::Forbidden);
    assert!(text(refused).await.contains("This setup link is not valid"));

    let code = app.state().setup.code().expect("a code while no user exists");
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

    assert!(app.state().setup.code().is_none(), "the code is used up");
    let again = app.client.get(format!("/setup?code={code}")).dispatch().await;
    assert_eq!((again.status(), location(&again)), (Status::SeeOther, "/login".into()));
}

#[rocket::async_test]
async fn login_logout_redirects_and_throttling() {
    let app = TestApp::new().await;
    app.user_with_password("me@example.com");
    let page = app.client.get("/websites").dispatch().await;
    assert_eq!((page.status(), location(&page)), (Status::SeeOther, "/login?next=%2Fwebsites".into()));

    let wrong = app.post_login(&[("email", "me@example.com"), ("password", "nope"), ("next", "/")]).await;
    assert_eq!(wrong.status(), Status::Ok);
    let wrong_text = text(wrong).await;
    assert!(wrong_text.contains("Wrong email or password"), "{wrong_text}");
    let unknown = app.post_login(&[("email", "who@example.com"), ("password", "nope")]).await;
    assert!(text(unknown).await.contains("Wrong email or password"), "unknown addresses look the same");

    let ok = app.post_login(&[("email", "Me@Example.com"), ("password", PASSWORD), ("next", "/account/tokens")]).await;
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
        app.post_login(&[("email", "me@example.com"), ("password", "nope")]).await;
    }
    let blocked = app.post_login(&[("email", "me@example.com"), ("password", PASSWORD)]).await;
    assert!(text(blocked).await.contains("Too many sign-in attempts"));
    let other_page = app.post_login(&[("email", "evil.com@x.io"), ("password", "x"), ("next", "//evil.com")]).await;
    assert_eq!(other_page.status(), Status::Ok);
}

#[rocket::async_test]
async fn a_login_form_without_its_token_signs_nobody_in() {
    let app = TestApp::new().await;
    app.user_with_password("me@example.com");
    // Another site's form: the right password, but no token (and no cookie to match one).
    let forged = app.post_form("/login", &[("email", "me@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(forged.status(), Status::Ok);
    assert!(forged.headers().get("Set-Cookie").all(|c| !c.starts_with("revlink_session=")), "no session");
    assert!(text(forged).await.contains("This sign-in form expired or came from another site"));
    let guessed =
        app.post_form("/login", &[("email", "me@example.com"), ("password", PASSWORD), ("login_token", "00")]).await;
    assert!(guessed.headers().get("Set-Cookie").all(|c| !c.starts_with("revlink_session=")), "no session");
    assert_eq!(app.client.get("/websites").dispatch().await.status(), Status::SeeOther, "still logged out");
    let real = app.post_login(&[("email", "me@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(real.status(), Status::SeeOther);
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
