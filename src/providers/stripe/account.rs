//! Whether a new key reads the same Stripe account as the key before it, so that a key rotation keeps the import.
//!
//! A restricted key cannot simply be asked for its account: `GET /v1/account` needs Connect permissions a revenue
//! import has no business holding (Stripe has answered it with a 403 asking for `rak_accounts_kyc_id_numbers_read`
//! even to a key with every other Read permission), and neither the balance nor a charge carries the account id.
//! So the account is told by a charge instead: charge ids are unique across Stripe, and only a key of the account
//! (and mode) that owns a charge can read it. revlink keeps one charge of the account it imports from; a new key
//! that lists it as its newest charge, or can read it by id, reads the same account. A charge cannot be deleted, so a
//! key of the same account always can.

use reqwest::StatusCode;
use serde::Deserialize;

use crate::domain::stripe_key::StripeRestrictedKey;
use crate::providers::stripe::client::{Reply, StripeClient};
use crate::providers::stripe::lists;

#[derive(Deserialize)]
struct Identified {
    id: String,
}

/// `Some(true)`: the key reads the account that owns `charge`; `Some(false)`: it does not (Stripe has no such
/// charge for it); `None`: Stripe gave no clear answer.
pub async fn reads_charge(client: &StripeClient, key: &StripeRestrictedKey, charge: &str) -> Option<bool> {
    match client.get(key.secret(), &lists::CHARGES.unexpanded().object(charge)).await {
        Reply::Ok(body) => Some(serde_json::from_slice::<Identified>(&body).ok()?.id == charge),
        Reply::Failed { status: StatusCode::NOT_FOUND, .. } => Some(false),
        Reply::Failed { status, .. } => {
            tracing::info!(
                status = status.as_u16(),
                "could not tell whether the new key reads the same Stripe account"
            );
            None
        }
        Reply::Timeout | Reply::Unreachable(_) => {
            tracing::info!("could not tell whether the new key reads the same Stripe account: no answer");
            None
        }
    }
}
