//! A fresh revlink per test: a temp data directory, its own database, a Stripe fake, and seeding helpers.

#![allow(dead_code)]

use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Method, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::Value;
use tempfile::TempDir;

use revlink::db::{credentials, team, users, websites};
use revlink::domain::Actor;
use revlink::domain::{ObjectId, PermissionSet, Role};
use revlink::service::App;

use crate::stripe_fake::StripeFake;

pub const LIVE_KEY: &str = "rk_live_51NxQp2Cg7Yq1s8dZt4K9mLbA0vWe3";
pub const TEST_KEY: &str = "rk_test_51NxQp2Cg7Yq1s8dZt4K9mLbA0vWe3";

pub struct TestApp {
    pub client: Client,
    pub stripe: StripeFake,
    pub dir: TempDir,
}

pub struct Reply {
    pub status: Status,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// A response read whole: its status, headers and JSON body (anything else fails the test).
    pub async fn read(res: LocalResponse<'_>) -> Self {
        let status = res.status();
        let headers = res.headers().iter().map(|h| (h.name().to_string(), h.value().to_string())).collect();
        let text = res.into_string().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON answer ({status}): {text}"));
        Self { status, body, headers }
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The figment every test starts from: its own data dir, the fake Stripe, limits out of the way.
pub fn test_figment(dir: &TempDir, stripe_url: &str) -> Figment {
    revlink::config::figment()
        .merge(("data_dir", dir.path()))
        .merge(("stripe_api_base", stripe_url))
        .merge(("stripe_timeout_secs", 1))
        .merge(("rate_limit_per_minute", 1_000_000))
        .merge(("auth_failure_limit_per_minute", 1_000_000))
        .merge(("environment", "development"))
        .merge(("log_level", "off"))
        // Import tests switch it on; elsewhere a connect must not start reading the fake's lists.
        .merge(("auto_import", false))
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(|f| f).await
    }

    pub async fn with(adjust: impl FnOnce(Figment) -> Figment) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let stripe = StripeFake::start().await;
        Self::start(dir, stripe, adjust).await
    }

    /// An app on an existing data directory and Stripe fake: revlink started again.
    pub async fn start(dir: TempDir, stripe: StripeFake, adjust: impl FnOnce(Figment) -> Figment) -> Self {
        let figment = adjust(test_figment(&dir, &stripe.url()));
        let rocket = revlink::build(figment).expect("revlink builds");
        let client = Client::tracked(rocket).await.expect("rocket ignites");
        Self { client, stripe, dir }
    }

    /// Stops this revlink, keeping its data directory and Stripe fake for another.
    pub fn into_parts(self) -> (TempDir, StripeFake) {
        (self.dir, self.stripe)
    }

    pub fn state(&self) -> &App {
        self.client.rocket().state::<App>().expect("managed state")
    }

    pub fn user(&self, email: &str) -> ObjectId {
        self.state().db.with_conn(|c| users::create(c, email, Some("Test User"), None)).expect("user")
    }

    pub fn website(&self, owner: &ObjectId, domain: &str) -> ObjectId {
        let new = revlink::domain::website::NewWebsite {
            domain: domain.into(),
            name: Some("Site".into()),
            timezone: "UTC".into(),
        };
        self.state().db.with_conn(|c| websites::create(c, owner, &new, &Actor::cli())).expect("website").website_id
    }

    pub fn member(&self, website: &ObjectId, user: &ObjectId, role: Role) {
        self.state().db.with_conn(|c| team::add_member(c, website, user, role, &Actor::cli())).expect("member");
    }

    pub fn token(&self, user: &ObjectId, permissions: &[&str], websites: &[ObjectId]) -> String {
        let perms = PermissionSet::parse(permissions).expect("permissions");
        self.state()
            .db
            .with_conn(|c| credentials::create_access_token(c, user, None, &perms, websites, &Actor::cli()))
            .expect("token")
            .key
            .expect("raw key")
    }

    pub fn full_token(&self, user: &ObjectId) -> String {
        self.token(user, &["*"], &[])
    }

    pub fn website_key(&self, website: &ObjectId) -> String {
        self.state()
            .db
            .with_conn(|c| credentials::create_website_key(c, website, None, &Actor::cli()))
            .expect("key")
            .key
            .expect("raw key")
    }

    /// An owner with one website and a full-access token.
    pub fn owner_with_site(&self) -> (ObjectId, ObjectId, String) {
        let owner = self.user("owner@example.com");
        let site = self.website(&owner, "shop.example.com");
        let token = self.full_token(&owner);
        (owner, site, token)
    }

    pub async fn send(&self, method: Method, path: &str, bearer: Option<&str>, body: Option<&str>) -> Reply {
        let mut req = self.client.req(method, path.to_owned());
        if let Some(token) = bearer {
            req.add_header(Header::new("Authorization", format!("Bearer {token}")));
        }
        if let Some(body) = body {
            req.add_header(ContentType::JSON);
            req = req.body(body);
        }
        Reply::read(req.dispatch().await).await
    }

    pub async fn get(&self, path: &str, bearer: &str) -> Reply {
        self.send(Method::Get, path, Some(bearer), None).await
    }

    pub async fn connect(&self, website: &ObjectId, bearer: &str, key: &str) -> Reply {
        let body = serde_json::json!({ "stripeRak": key }).to_string();
        self.send(
            Method::Post,
            &format!("/api/v1/admin/websites/{website}/integrations/stripe"),
            Some(bearer),
            Some(&body),
        )
        .await
    }
}

/// A 24-character lowercase hex id, as the API answers them.
pub fn is_id(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

/// Asserts the error envelope: integer code equal to the status, and the message.
pub fn assert_error(reply: &Reply, status: u16, message: &str) {
    assert_eq!(reply.status.code, status, "body: {}", reply.body);
    assert_eq!(reply.body["status"], "error", "body: {}", reply.body);
    assert_eq!(reply.body["error"]["code"], status, "body: {}", reply.body);
    assert_eq!(reply.message(), message, "body: {}", reply.body);
}
