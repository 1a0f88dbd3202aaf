//! The settings pages (HTML): one binary, a fresh app per test (see `helpers`), one file per page or flow.
//! Status, redirects, flash messages, CSRF, roles and escaping; the tracking script's files.

#[path = "../support/browser.rs"]
mod browser;
mod csrf;
mod dashboard;
mod errors;
#[path = "../support/helpers.rs"]
mod helpers;
mod integrations;
mod keys_tokens;
mod reconciliation;
mod revenue;
mod setup_login;
#[path = "../support/stripe_fake.rs"]
mod stripe_fake;
mod subscriptions;
mod team;
mod tracking_script;
mod tracking_settings;
mod websites;
