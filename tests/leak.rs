//! Secrets never leak: after connect, reconnect, an import, failed connects, webhook secrets set and webhook
//! deliveries, and disconnect, neither the raw Stripe keys, the webhook signing secrets nor the raw bearer token
//! appear in the database files (with `-wal`), the captured logs (at TRACE, Rocket's and reqwest's included), or
//! any response body.

#[path = "support/helpers.rs"]
mod helpers;
#[path = "support/stripe_fake.rs"]
mod stripe_fake;

use std::io::Write;
use std::sync::{Arc, Mutex};

use rocket::http::Method;
use tracing_subscriber::fmt::MakeWriter;

use helpers::{LIVE_KEY, TestApp};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[rocket::async_test]
async fn raw_keys_appear_nowhere() {
    let logs = Captured::default();
    tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(logs.clone()).with_ansi(false).init();

    let second = "rk_live_51SecondKeyQwErTyUiOpAsDfGh";
    let rejected = "rk_live_51RejectedKeyZxCvBnMqWeRtYu";
    let app = TestApp::with(|f| f.merge(("log_level", "debug")).merge(("auto_import", true))).await;
    let (_, site, token) = app.owner_with_site();
    let stripe_path = format!("/api/v1/admin/websites/{site}/integrations/stripe");
    let mut bodies = Vec::new();

    app.stripe.answer("/v1/invoices", stripe_fake::missing_permission("rak_invoice_read")).await;
    app.stripe.healthy(true, &[(100, "usd")]).await;
    app.stripe.optional_lists().await;
    bodies.push(app.connect(&site, &token, rejected).await.body);
    app.stripe.server.reset().await;
    app.stripe.healthy(true, &[(100, "usd")]).await;
    app.stripe.optional_lists().await;
    for key in [LIVE_KEY, second] {
        let reply = app.connect(&site, &token, key).await;
        assert_eq!(reply.status.code, 200, "{}", reply.body);
        bodies.push(reply.body);
        bodies.push(app.get(&format!("/api/v1/admin/websites/{site}/integrations"), &token).await.body);
    }
    // A webhook signing secret sent with the key, another set alone, and deliveries signed with each.
    let (webhook_a, webhook_b) = ("whsec_LeakTestSecretAaaaaaaaaaaaaa1", "whsec_LeakTestSecretBbbbbbbbbbbbb2");
    let with_secret = serde_json::json!({"stripeRak": second, "stripeWebhookSecret": webhook_a}).to_string();
    bodies.push(app.send(Method::Post, &stripe_path, Some(&token), Some(&with_secret)).await.body);
    let put = serde_json::json!({"stripeWebhookSecret": webhook_b}).to_string();
    bodies.push(app.send(Method::Put, &format!("{stripe_path}/webhook"), Some(&token), Some(&put)).await.body);
    let payload = r#"{"id":"evt_leak","object":"event","type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}"#;
    for secret in [webhook_a, webhook_b] {
        use hmac::{KeyInit, Mac};
        let t = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{payload}").as_bytes());
        let signature = format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()));
        let reply = app
            .client
            .post(format!("/api/v1/webhooks/stripe/{site}"))
            .header(rocket::http::ContentType::JSON)
            .header(rocket::http::Header::new("Stripe-Signature", signature))
            .body(payload)
            .dispatch()
            .await;
        bodies.push(serde_json::from_str(&reply.into_string().await.unwrap()).unwrap());
    }
    assert_eq!(bodies.last().unwrap()["status"], "success", "the delivery signed with the secret set last");
    // The import that connect started reads with the key too; its logs are captured until it ends.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status = app.get(&stripe_path, &token).await.body;
        if status["data"][0]["sync"]["phase"] == "incremental" && status["data"][0]["sync"]["state"] == "idle" {
            bodies.push(status);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the import did not finish: {status}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    bodies.push(app.send(Method::Delete, &stripe_path, Some(&token), None).await.body);
    bodies.push(app.get(&format!("/api/v1/admin/websites/{site}/integrations"), &token).await.body);

    let logged = logs.0.lock().unwrap().clone();
    assert!(contains(&logged, "/v1/balance"), "the capture works: Stripe calls are logged");
    assert!(contains(&logged, "Matched:"), "Rocket's own request log is captured too");
    assert!(contains(&logged, "Stripe sync complete"), "the import's logs are captured too");
    let data_dir = app.dir.path().to_owned();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        let path = entry.unwrap().path();
        files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert!(
        files.iter().any(|(name, _)| name.ends_with("-wal")),
        "the WAL is checked too: {files:?}",
        files = files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );

    for secret in [LIVE_KEY, second, rejected, token.as_str(), webhook_a, webhook_b] {
        assert!(!contains(&logged, secret), "{secret} in the logs");
        for body in &bodies {
            assert!(!body.to_string().contains(secret), "{secret} in a response: {body}");
        }
        for (name, bytes) in &files {
            if std::path::Path::new(name).extension().is_some_and(|e| e == "key") {
                continue;
            }
            assert!(!contains(bytes, secret), "{secret} in {name}");
        }
    }
}
