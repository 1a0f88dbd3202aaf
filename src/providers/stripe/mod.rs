//! Everything that talks to Stripe: the HTTP client, the lists the import reads (`lists`), the permissions a
//! restricted key needs (`permissions`), the verification of a key, which account a key reads (`account`),
//! Stripe's objects with the charge-to-payment rule, and its signed webhook events (`webhook`).

pub mod account;
pub mod client;
pub mod dispute;
pub mod ledger;
pub mod lists;
pub mod objects;
pub mod permissions;
pub mod verify;
pub mod webhook;

pub use client::StripeClient;
pub use verify::{VerifiedAccount, VerifyError};

/// The Stripe API version every call sends as `Stripe-Version`, whatever the merchant's account defaults to: the
/// shapes `objects` parses are this version's, and the tests' Stripe fake answers every call without it with an
/// error.
///
/// Chosen on 2026-11-28 (issue 12): the last version of Stripe's Clover release, the one every field `objects` reads
/// was checked against. Clover's breaking changes came with `2025-09-30.clover` (none touches what the import reads);
/// Basil's, before them, with `2025-03-31.basil`: charges and payment intents lost `invoice`, invoices lost `charge`,
/// `payment_intent`, `paid` and `subscription` (an invoice names its payments under `payments`, included only when
/// expanded, and its subscription under `parent.subscription_details`). Stripe has newer versions (`2026-08-26.dahlia`
/// at the time); moving is a deliberate change: read the changelog against every field `objects` reads, update them
/// and the test fake's bodies together, then this constant and the README.
pub const API_VERSION: &str = "2026-02-25.clover";
