//! The API integration tests: one binary, a fresh app per test (see `helpers`).

mod authorization;
mod connect_stripe;
mod helpers;
mod import;
mod limits;
mod openapi;
mod pages;
mod payments;
mod resources;
mod revocation;
mod stripe_account;
mod stripe_fake;
