//! What the pages show of disputes and of the reconciliation with Stripe's ledger: the Integrations page says
//! "Matches Stripe" or names the differing days and figures, with "Check now"; the Revenue page has a card for
//! what disputes took and marks each disputed payment.

use rocket::http::Status;

use revlink::db::disputes;
use revlink::db::import::stored_key;
use revlink::db::payments::upsert_imported;
use revlink::db::reconcile::{self, Outcome};
use revlink::domain::ObjectId;
use revlink::domain::dispute::NewDispute;
use revlink::domain::payment::{NewPayment, Settlement};
use revlink::domain::reconciliation::Mismatch;

use crate::browser::{location, text};
use crate::helpers::TestApp;

/// A logged-in owner of a website connected to a healthy Stripe fake: `(site, csrf)`.
async fn connected(app: &TestApp) -> (ObjectId, String) {
    let me = app.user_with_password("me@example.com");
    let site = app.website(&me, "shop.example.com");
    app.stripe.healthy(true, &[(500, "usd")]).await;
    let csrf = app.login("me@example.com").await;
    let page = format!("/websites/{site}/integrations/stripe");
    app.post_form(&page, &[("stripeRak", "rk_live_51AbcdefGhijklmnopQrst"), ("csrf_token", &csrf)]).await;
    (site, csrf)
}

/// Records a complete check as the worker does.
fn checked(app: &TestApp, site: &ObjectId, mismatches: Vec<Mismatch>) {
    app.state()
        .db
        .with_conn(|c| {
            let nonce = stored_key(c, site)?.expect("connected").sealed.nonce;
            reconcile::begin(c, site, &nonce)?;
            let differing = u32::try_from(revlink::domain::reconciliation::dates_of(&mismatches).len()).unwrap();
            let outcome = Outcome {
                days: 35,
                matched_days: 35 - differing,
                repaired_days: 1,
                balance_transactions: 120,
                requests: 2,
                mismatches,
            };
            reconcile::finish(c, site, &nonce, &outcome)
        })
        .unwrap();
}

#[rocket::async_test]
async fn the_integrations_page_says_whether_revlink_matches_stripe_and_checks_on_request() {
    let app = TestApp::new().await;
    let (site, csrf) = connected(&app).await;
    let page = format!("/websites/{site}/integrations");
    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(shown.contains("Reconciliation with Stripe") && shown.contains("Not checked yet"), "{shown}");

    checked(&app, &site, vec![]);
    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(shown.contains("Matches Stripe for the last 35 days."), "{shown}");
    assert!(shown.contains("1 day read again from Stripe to match") && shown.contains("Check now"), "{shown}");

    let refunds = Mismatch {
        date: "2026-05-19".into(),
        field: "refunds".into(),
        revlink: 0,
        stripe: 1500,
        currency: "USD".into(),
    };
    checked(&app, &site, vec![refunds]);
    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(shown.contains("Differs from Stripe on 1 of the last 35 days."), "{shown}");
    assert!(
        shown.contains("<td>2026-05-19</td><td>refunds</td><td>0.00 USD</td><td>15.00 USD</td>"),
        "the day, the figure and both sums: {shown}"
    );
    assert!(!shown.contains("Matches Stripe"));

    let asked = app.post_form(&format!("{page}/stripe/reconcile"), &[("csrf_token", &csrf)]).await;
    assert_eq!((asked.status(), location(&asked)), (Status::SeeOther, page.clone()));
    let shown = text(app.client.get(page.clone()).dispatch().await).await;
    assert!(shown.contains("Stripe reconciliation started"), "{shown}");
    let forged = app.post_form(&format!("{page}/stripe/reconcile"), &[("csrf_token", "x")]).await;
    assert_ne!(forged.status(), Status::SeeOther, "the button needs the form's token");
}

#[rocket::async_test]
async fn the_revenue_page_shows_what_disputes_took_and_marks_each_disputed_payment() {
    let app = TestApp::new().await;
    let (site, _) = connected(&app).await;
    app.state()
        .db
        .with_conn(|c| {
            for (id, amount) in [("ch_3PgafuB7WZ01zgkWlost0001", 2900), ("ch_3PgafuB7WZ01zgkWwon00001", 4000)] {
                let payment = NewPayment {
                    transaction_id: id.into(),
                    amount,
                    currency: "USD".into(),
                    refunded_amount: 0,
                    disputed: true,
                    settled: Some(Settlement { amount, currency: "USD".into(), fee: 114 }),
                    renewal: false,
                    free_trial: false,
                    visitor_id: None,
                    session_id: None,
                    customer_id: None,
                    customer_email: Some("buyer@example.com".into()),
                    customer_name: None,
                    paid_at: "2026-03-10T12:00:00.000Z".into(),
                };
                upsert_imported(c, &site, &payment)?;
            }
            let dispute = |id: &str, charge: &str, status: &str, loss: i64, settled: i64| NewDispute {
                id: id.into(),
                transaction_id: charge.into(),
                amount: 2900,
                currency: "USD".into(),
                status: status.into(),
                reason: Some("fraudulent".into()),
                created: 1_773_500_000,
                charge_refundable: false,
                loss,
                loss_settled: Some((settled, "USD".into())),
            };
            disputes::upsert(c, &site, &dispute("du_1", "ch_3PgafuB7WZ01zgkWlost0001", "lost", 2900, 4400))?;
            disputes::upsert(c, &site, &dispute("du_2", "ch_3PgafuB7WZ01zgkWwon00001", "won", 0, 0))
        })
        .unwrap();
    let shown =
        text(app.client.get(format!("/websites/{site}/revenue?start=2026-03-01&end=2026-03-31")).dispatch().await)
            .await;
    assert!(shown.contains(r#"<p class="figure">25.00 USD</p>"#), "69.00 gross less 44.00 lost: {shown}");
    assert!(shown.contains("− 44.00 USD lost to disputes"), "{shown}");
    assert!(shown.contains("<dt>Lost to disputes</dt><dd>44.00 USD"), "the card in the totals: {shown}");
    assert!(shown.contains(r#"<span class="error">dispute lost</span>"#), "{shown}");
    assert!(shown.contains(r#"<span class="muted">dispute won</span>"#), "{shown}");
    let only = text(
        app.client
            .get(format!("/websites/{site}/revenue?start=2026-03-01&end=2026-03-31&kind=disputed"))
            .dispatch()
            .await,
    )
    .await;
    assert!(only.contains("dispute lost") && only.contains("dispute won"), "the Disputed filter: {only}");
}
