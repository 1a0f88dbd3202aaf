//! The integrations page: the Stripe form works without JavaScript (posting to its page route, which
//! calls the same service as the API route its JavaScript posts to).

use rocket::http::Status;

use crate::browser::{location, text};
use crate::helpers::TestApp;

#[rocket::async_test]
async fn the_stripe_form_without_javascript_posts_to_its_page_route() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.stripe.healthy(true, &[(500, "gbp")]).await;
    let csrf = app.login("me@example.com").await;
    let api = format!("/api/v1/admin/websites/{site}/integrations/stripe");
    let route = format!("/websites/{site}/integrations/stripe");
    let page = format!("/websites/{site}/integrations");
    let form = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(
        form.contains(&format!("action=\"{route}\" data-api-form data-api-action=\"{api}\"")),
        "the form posts to the page route, its script to the API route"
    );
    // A JSON route takes a browser's CSRF token only in its header, never from a form body.
    let api_form = app.post_form(&api, &[("stripeRak", "rk_live_51AbcdefGhijklmnopQrst"), ("csrf_token", &csrf)]).await;
    assert_eq!(api_form.status(), Status::Forbidden);

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
