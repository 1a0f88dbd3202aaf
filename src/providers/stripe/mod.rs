//! Everything that talks to Stripe: the HTTP client, the verification of a restricted key, Stripe's
//! objects with the charge-to-payment rule, and its signed webhook events.

pub mod client;
pub mod objects;
pub mod verify;
pub mod webhook;

pub use client::StripeClient;
pub use verify::{VerifiedAccount, VerifyError};
