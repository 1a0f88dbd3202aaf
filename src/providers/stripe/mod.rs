//! Everything that talks to Stripe: the HTTP client, the verification of a restricted key, and Stripe's
//! objects with the charge-to-payment rule.

pub mod client;
pub mod dispute;
pub mod ledger;
pub mod objects;
pub mod verify;

pub use client::StripeClient;
pub use verify::{VerifiedAccount, VerifyError};
