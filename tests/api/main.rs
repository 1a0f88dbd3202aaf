//! The API integration tests: one binary, a fresh app per test (see `helpers`), one file per resource.

mod access_tokens;
mod analytics;
mod api_keys;
mod authorization;
mod bodies;
#[path = "../support/browser.rs"]
mod browser;
mod connect_stripe;
mod disputes;
mod events;
#[path = "../support/geoip.rs"]
mod geoip;
#[path = "../support/helpers.rs"]
mod helpers;
mod import;
mod key_rotation;
mod limits;
mod metrics;
mod mrr;
mod openapi;
mod payments;
mod reconcile;
mod revocation;
mod stripe_account;
#[path = "../support/stripe_fake.rs"]
mod stripe_fake;
#[path = "../support/stripe_fake_billing.rs"]
mod stripe_fake_billing;
mod stripe_ledger;
mod stripe_permissions;
mod stripe_version;
mod team;
mod webhook_secret;
mod webhooks;
mod websites;
