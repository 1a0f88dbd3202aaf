//! The integrations page: the Stripe form works without JavaScript.

use rocket::http::Status;

use crate::browser::{location, text};
use crate::helpers::TestApp;

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
