//! The ledger fake (`tests/support/stripe_ledger.rs`, shared with `examples/stripe_fake.rs`) and what the
//! reconciliation and dispute tests do with it: an importing revlink with the ledger mounted, the status, a
//! reconciliation asked for and waited on, `revlink check`.

#[path = "../support/stripe_ledger.rs"]
mod fake;

pub use fake::*;
use serde_json::Value;

/// Imports on connect, at start-up and hourly, fast.
pub fn importing(f: rocket::figment::Figment) -> rocket::figment::Figment {
    f.merge(("auto_import", true))
        .merge(("stripe_retry_base_ms", 5))
        .merge(("stripe_test_requests_per_second", 100_000))
        .merge(("sync_interval_secs", 3600))
}

/// A revlink that imports on connect, the ledger mounted in front of the account, and an owner's website.
pub async fn app_for(ledger: &Ledger) -> (crate::helpers::TestApp, revlink::domain::ObjectId, String) {
    let app = crate::helpers::TestApp::with(importing).await;
    ledger.mount(&app.stripe.server).await;
    let (_, site, token) = app.owner_with_site();
    (app, site, token)
}

/// `GET …/integrations/stripe`'s data.
pub async fn stripe_status(app: &crate::helpers::TestApp, site: &revlink::domain::ObjectId, token: &str) -> Value {
    let r = app.get(&format!("/api/v1/admin/websites/{site}/integrations/stripe"), token).await;
    assert_eq!(r.status.code, 200, "{}", r.body);
    r.body["data"][0].clone()
}

/// Asks for a reconciliation through the API and waits until it has run: the `reconciliation` it shows then.
pub async fn reconcile_now(app: &crate::helpers::TestApp, site: &revlink::domain::ObjectId, token: &str) -> Value {
    let before = stripe_status(app, site, token).await["reconciliation"]["checkedAt"].clone();
    let r = app
        .send(
            rocket::http::Method::Post,
            &format!("/api/v1/admin/websites/{site}/integrations/stripe/reconcile"),
            Some(token),
            None,
        )
        .await;
    assert_eq!((r.status.code, r.body["data"][0]["message"].as_str()), (202, Some("Stripe reconciliation started")));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = stripe_status(app, site, token).await["reconciliation"].clone();
        if r["state"] == "error" || (r["state"] == "idle" && r["checkedAt"] != before) {
            return r;
        }
        assert!(std::time::Instant::now() < deadline, "the reconciliation did not finish: {r}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// What `revlink check` reports: no problem, the revenue rollups equal to a recount of the payments.
pub async fn check_is_clean(app: &crate::helpers::TestApp) {
    let state = app.state();
    let report = revlink::service::check::run(&state.db, Ok(state.stripe_keys.clone())).await.expect("check runs");
    assert!(report.ok, "revlink check: {:?}", report.problems());
}
