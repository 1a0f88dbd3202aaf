//! Everything that talks to Stripe: the HTTP client and the verification of a restricted key.

pub mod client;
pub mod objects;
pub mod verify;

pub use client::StripeClient;
pub use verify::{VerifiedAccount, VerifyError};
