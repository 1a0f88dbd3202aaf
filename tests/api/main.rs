//! The API integration tests: one binary, a fresh app per test (see `helpers`).

mod authorization;
mod connect_stripe;
mod helpers;
mod limits;
mod openapi;
mod pages;
mod payments;
mod resources;
mod stripe_fake;
