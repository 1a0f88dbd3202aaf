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

/// The hint line under the field after a refused key, without JavaScript (the flash carries it).
async fn refused_with(app: &TestApp, site: &str, key: &str, csrf: &str) -> (String, String) {
    let route = format!("/websites/{site}/integrations/stripe");
    let refused = app.post_form(&route, &[("stripeRak", key), ("csrf_token", csrf)]).await;
    assert_eq!(refused.status(), Status::SeeOther);
    let page = text(app.client.get(format!("/websites/{site}/integrations")).dispatch().await).await;
    let field = |id: &str| {
        let marker = format!("id=\"{id}\"");
        let at = page.find(&marker).unwrap_or_else(|| panic!("{id} in {page}"));
        let start = at + page[at..].find('>').unwrap() + 1;
        page[start..start + page[start..].find("</p>").unwrap()].to_owned()
    };
    (field("stripeRak-message"), field("stripeRak-hint"))
}

#[rocket::async_test]
async fn a_secret_or_publishable_key_gets_a_hint_under_the_contract_message() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;

    let (message, hint) = refused_with(&app, site.as_str(), "sk_live_51NotRestrictedAtAll", &csrf).await;
    assert_eq!(message, "Invalid key format (must start with rk_)", "the contract's message stays");
    assert!(hint.starts_with("This is a secret key (sk_)") && hint.contains("Create a restricted key (rk_)"), "{hint}");
    assert!(hint.contains("Balance, Charges and Refunds"), "with the permissions to grant: {hint}");
    assert!(!hint.contains("sk_live_51NotRestrictedAtAll"), "never the key");

    let (message, hint) = refused_with(&app, site.as_str(), "pk_live_51Publishable", &csrf).await;
    assert_eq!(message, "Invalid key format (must start with rk_)");
    assert!(hint.starts_with("This is a publishable key (pk_)"), "{hint}");

    let (_, hint) = refused_with(&app, site.as_str(), "rk_live_short", &csrf).await;
    assert_eq!(hint, "", "a malformed restricted key needs no hint beyond the message");

    // With JavaScript the same lines come from the form's attributes, chosen by the same rule (static/app.js).
    let page = text(app.client.get(format!("/websites/{site}/integrations")).dispatch().await).await;
    assert!(page.contains("data-hint-secret=\"This is a secret key (sk_)"), "{page}");
    assert!(page.contains("data-hint-publishable=\"This is a publishable key (pk_)"));
    assert!(!page.contains("data-hint-test="), "test keys are fine in development");
}

#[rocket::async_test]
async fn a_test_key_in_production_gets_a_hint_about_the_mode() {
    let app = TestApp::with(|f| f.merge(("environment", "production"))).await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;
    let (message, hint) = refused_with(&app, site.as_str(), "rk_test_51NxQp2Cg7Yq1s8dZt4K9mLbA0vWe3", &csrf).await;
    assert_eq!(message, "Test keys are not allowed in production; use a live restricted key (rk_live_...)");
    assert!(hint.starts_with("This is a test-mode key") && hint.contains("rk_live_"), "{hint}");
    let page = text(app.client.get(format!("/websites/{site}/integrations")).dispatch().await).await;
    assert!(page.contains("data-hint-test=\"This is a test-mode key"));
}

#[rocket::async_test]
async fn an_unreachable_stripe_is_named_by_its_api_base_never_with_the_key() {
    // Nothing listens on the discard port of the loopback address.
    let app = TestApp::with(|f| f.merge(("stripe_api_base", "http://127.0.0.1:9"))).await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    let csrf = app.login("me@example.com").await;
    let key = "rk_live_51AbcdefGhijklmnopQrst";
    let (message, hint) = refused_with(&app, site.as_str(), key, &csrf).await;
    assert_eq!(message, "Could not verify the key with Stripe; try again");
    assert!(hint.contains("the Stripe API at http:&#x2F;&#x2F;127.0.0.1:9"), "{hint}");
    assert!(!hint.contains(key) && !hint.contains("rk_live"), "{hint}");
}

#[rocket::async_test]
async fn after_a_disconnect_the_import_card_says_revlink_no_longer_reads_from_stripe() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.stripe.healthy(true, &[(500, "usd")]).await;
    let csrf = app.login("me@example.com").await;
    let page = format!("/websites/{site}/integrations");
    app.post_form(&format!("{page}/stripe"), &[("stripeRak", "rk_live_51AbcdefGhijklmnopQrst"), ("csrf_token", &csrf)])
        .await;
    app.post_form(&format!("{page}/stripe/sync"), &[("csrf_token", &csrf)]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let shown = loop {
        let shown = text(app.client.get(page.clone()).dispatch().await).await;
        if shown.contains("Up to date") {
            break shown;
        }
        assert!(std::time::Instant::now() < deadline, "the import did not finish: {shown}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(shown.contains("last complete sync <time datetime="), "a readable time: {shown}");

    let gone = app.post_form(&format!("{page}/stripe/disconnect"), &[("csrf_token", &csrf)]).await;
    assert_eq!((gone.status(), location(&gone)), (Status::SeeOther, page.clone()));
    let shown = text(app.client.get(page).dispatch().await).await;
    assert!(shown.contains("Stripe disconnected successfully") && shown.contains("Not connected."));
    assert!(shown.contains("Stripe is disconnected:</strong> revlink no longer reads from it"), "{shown}");
    assert!(!shown.contains("Up to date") && !shown.contains("Sync now") && !shown.contains("data-auto-refresh"));
    assert!(shown.contains("1 payment imported"), "what was imported stays");
}

/// A key without an optional permission: connected all the same, with a card saying what granting it would add; the
/// flash says what the connect did to the import (a second key of the same account continues it).
#[rocket::async_test]
async fn a_missing_optional_permission_gets_a_card_and_the_flash_says_what_happened_to_the_import() {
    let app = TestApp::new().await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.stripe.answer("/v1/disputes", crate::stripe_fake::missing_permission("rak_dispute_read")).await;
    app.stripe.healthy(true, &[(500, "usd")]).await;
    let csrf = app.login("me@example.com").await;
    let page = format!("/websites/{site}/integrations");

    let before = text(app.client.get(page.clone()).dispatch().await).await;
    for permission in ["rak_charge_read", "rak_subscription_read", "rak_dispute_read"] {
        assert!(before.contains(&format!("permissions%5B%5D={permission}")), "the key link ticks {permission}");
    }
    assert!(
        before.contains("<code>rak_subscription_read</code> (Subscriptions), for subscriptions: MRR, ARR"),
        "{before}"
    );
    assert!(!before.contains("id=\"optional-permissions\""), "no card before a key is connected");
    assert!(before.contains("data-import-continued=\"Same Stripe account as before"), "the script's texts");

    let route = format!("{page}/stripe");
    app.post_form(&route, &[("stripeRak", "rk_live_51AbcdefGhijklmnopQrst"), ("csrf_token", &csrf)]).await;
    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(
        shown.contains("Stripe connected successfully (USD). The import of your Stripe history starts now."),
        "{shown}"
    );
    let card = &shown[shown.find("id=\"optional-permissions\"").expect("the card")..];
    let card = &card[..card.find("</section>").unwrap()];
    assert!(
        card.contains(
            "Grant <code>rak_dispute_read</code> (Disputes: Read) to see disputes: a lost one is taken off net revenue"
        ),
        "{card}"
    );
    assert!(!card.contains("rak_subscription_read"), "the key has that one");

    app.post_form(&route, &[("stripeRak", "rk_live_51RotatedKeyAbcdefghijk"), ("csrf_token", &csrf)]).await;
    let shown = text(app.client.get(page).dispatch().await).await;
    assert!(
        shown.contains(
            "Stripe connected successfully (USD). Same Stripe account as before: the import continues where it was"
        ),
        "{shown}"
    );
}

#[rocket::async_test]
async fn the_webhook_card_shows_its_url_and_events_and_takes_the_secret_without_showing_it() {
    let app = TestApp::with(|f| f.merge(("public_url", "https://revlink.example.com"))).await;
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.stripe.healthy(false, &[(500, "usd")]).await;
    let csrf = app.login("me@example.com").await;
    let page = format!("/websites/{site}/integrations");
    let before = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(!before.contains("Webhook (optional)"), "no webhook before Stripe is connected");
    app.post_form(&format!("{page}/stripe"), &[("stripeRak", "rk_test_51AbcdefGhijklmnopQrst"), ("csrf_token", &csrf)])
        .await;

    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(shown.contains("Webhook (optional)") && shown.contains("Not set up."), "{shown}");
    let url = format!("https:&#x2F;&#x2F;revlink.example.com&#x2F;api&#x2F;v1&#x2F;webhooks&#x2F;stripe&#x2F;{site}");
    assert!(shown.contains(&format!("<code id=\"webhook-url\">{url}</code>")), "the exact URL: {shown}");
    for event in [
        "charge.succeeded",
        "charge.refunded",
        "charge.dispute.created",
        "invoice.paid",
        "customer.subscription.deleted",
    ] {
        assert!(shown.contains(&format!("<code>{event}</code>")), "{event}");
    }

    let route = format!("{page}/stripe/webhook");
    let forged = app.post_form(&route, &[("stripeWebhookSecret", WHSEC), ("csrf_token", "nope")]).await;
    assert_eq!(forged.status(), Status::Forbidden);
    let bad =
        app.post_form(&route, &[("stripeWebhookSecret", "sk_live_notawebhooksecret"), ("csrf_token", &csrf)]).await;
    assert_eq!((bad.status(), location(&bad)), (Status::SeeOther, page.clone()));
    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(
        shown.contains("id=\"stripeWebhookSecret-message\" class=\"field-message\" role=\"alert\" aria-live=\"polite\">Invalid webhook signing secret"),
        "next to its own field: {shown}"
    );
    assert!(
        shown.contains("id=\"stripeRak-message\" class=\"field-message\" role=\"alert\" aria-live=\"polite\"></p>")
    );
    assert!(!shown.contains("sk_live_notawebhooksecret"));

    let ok = app.post_form(&route, &[("stripeWebhookSecret", WHSEC), ("csrf_token", &csrf)]).await;
    assert_eq!((ok.status(), location(&ok)), (Status::SeeOther, page.clone()));
    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(shown.contains("Stripe webhook signing secret saved"), "{shown}");
    assert!(shown.contains("Webhook signing secret set") && shown.contains("no event received yet"));
    assert!(shown.contains("Replace secret") && shown.contains("Remove secret"));
    assert!(!shown.contains(WHSEC) && !shown.contains(&WHSEC[6..18]), "never shown again");

    let removed = app.post_form(&format!("{route}/remove"), &[("csrf_token", &csrf)]).await;
    assert_eq!((removed.status(), location(&removed)), (Status::SeeOther, page.clone()));
    let shown = text(app.client.get(page).dispatch().await).await;
    assert!(shown.contains("Stripe webhook signing secret removed") && shown.contains("Not set up."), "{shown}");
}

const WHSEC: &str = "whsec_5fG8hJ2kL9mN3pQ7rS1tU4vW6xY0zA2b";
