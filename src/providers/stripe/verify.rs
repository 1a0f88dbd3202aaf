//! Verification of a restricted key (contract §4 step 6): the balance, then a `limit=1` probe of
//! every list the revenue import reads, all at once. Every missing permission is named together.

use reqwest::StatusCode;
use serde::Deserialize;

use crate::domain::stripe_key::StripeRestrictedKey;
use crate::error::Error;
use crate::providers::stripe::client::{Reply, StripeClient};

/// Each call verification makes, with the permission Stripe would name if it refused it.
const PROBES: [(&str, &str); 6] = [
    ("/v1/balance", "rak_balance_read"),
    ("/v1/charges?limit=1", "rak_charge_read"),
    // Stripe grants refunds with charges ("Charges and Refunds"); a 403 names the permission anyway.
    ("/v1/refunds?limit=1", "rak_charge_read"),
    ("/v1/payment_intents?limit=1", "rak_payment_intent_read"),
    ("/v1/checkout/sessions?limit=1", "rak_checkout_session_read"),
    ("/v1/invoices?limit=1", "rak_invoice_read"),
];

/// The Read permissions a key needs, with the names Stripe's key form shows them under.
pub const REQUIRED_PERMISSIONS: [(&str, &str); 5] = [
    ("rak_balance_read", "Balance"),
    ("rak_charge_read", "Charges and Refunds"),
    ("rak_payment_intent_read", "PaymentIntents"),
    ("rak_checkout_session_read", "Checkout Sessions"),
    ("rak_invoice_read", "Invoices"),
];

/// Stripe's "create restricted key" page with those permissions ticked.
pub fn create_key_url(test_mode: bool) -> String {
    let base = if test_mode {
        "https://dashboard.stripe.com/test/apikeys/create"
    } else {
        "https://dashboard.stripe.com/apikeys/create"
    };
    let permissions: String = REQUIRED_PERMISSIONS.iter().map(|(p, _)| ["&permissions%5B%5D=", p].concat()).collect();
    format!("{base}?name=revlink{permissions}")
}

/// What verification learned about the account.
#[derive(Debug)]
pub struct VerifiedAccount {
    pub livemode: bool,
    /// Upper-case ISO code of the largest available balance, if the balance lists any.
    pub currency: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerifyError {
    Rejected,
    MissingPermissions(Vec<String>),
    ModeMismatch { key_is_live: bool },
    RateLimited { retry_after: u64 },
    Unavailable,
    Timeout,
}

impl From<VerifyError> for Error {
    fn from(e: VerifyError) -> Self {
        const TRY_AGAIN: &str = "Could not verify the key with Stripe; try again";
        match e {
            VerifyError::Rejected => {
                Error::BadRequest("Stripe rejected this key: it is invalid, expired or revoked".into())
            }
            VerifyError::MissingPermissions(names) => Error::BadRequest(format!(
                "This key is missing Stripe permissions: {}. Grant Read access to them and try again.",
                names.join(", ")
            )),
            VerifyError::ModeMismatch { key_is_live } => Error::BadRequest(if key_is_live {
                "This rk_live_ key belongs to a test-mode Stripe account; use a key from live mode".into()
            } else {
                "This rk_test_ key belongs to a live-mode Stripe account; use a key from test mode".into()
            }),
            VerifyError::RateLimited { retry_after } => Error::Unavailable {
                message: format!("Stripe is rate limiting requests; try again in {retry_after} seconds"),
                retry_after,
            },
            VerifyError::Unavailable => Error::BadGateway(TRY_AGAIN.into()),
            VerifyError::Timeout => Error::GatewayTimeout(TRY_AGAIN.into()),
        }
    }
}

#[derive(Deserialize)]
struct Balance {
    livemode: bool,
    available: Vec<Amount>,
    #[serde(default)]
    pending: Vec<Amount>,
}

#[derive(Deserialize)]
struct Amount {
    amount: i64,
    currency: String,
}

#[derive(Deserialize)]
struct ListEnvelope {
    #[allow(dead_code)] // present in every list answer; its absence means the body is not one
    data: Vec<serde_json::Value>,
}

/// The `rak_…` name in a 403 message, e.g. "…Having the 'rak_charge_read' permission would allow…".
pub fn permission_named_in(message: &str) -> Option<String> {
    let start = message.find("'rak_")? + 1;
    let len = message[start..].find('\'')?;
    let name = &message[start..start + len];
    name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_').then(|| name.to_owned())
}

/// The largest available balance decides the currency; pending is the fallback for new accounts.
fn main_currency(balance: &Balance) -> Option<String> {
    let pick = |list: &[Amount]| list.iter().max_by_key(|a| a.amount).map(|a| a.currency.to_ascii_uppercase());
    pick(&balance.available).or_else(|| pick(&balance.pending))
}

pub async fn verify(client: &StripeClient, key: &StripeRestrictedKey) -> Result<VerifiedAccount, VerifyError> {
    let (balance, charges, refunds, intents, sessions, invoices) = tokio::join!(
        client.get(key.secret(), PROBES[0].0),
        client.get(key.secret(), PROBES[1].0),
        client.get(key.secret(), PROBES[2].0),
        client.get(key.secret(), PROBES[3].0),
        client.get(key.secret(), PROBES[4].0),
        client.get(key.secret(), PROBES[5].0),
    );
    let replies = [balance, charges, refunds, intents, sessions, invoices];

    // The first failure that is not a permission decides, in this order of precedence.
    let mut missing = Vec::new();
    let mut transient = None;
    for (reply, (_, permission)) in replies.iter().zip(PROBES) {
        match reply {
            Reply::Ok(_) => {}
            Reply::Failed { status: StatusCode::UNAUTHORIZED, .. } => return Err(VerifyError::Rejected),
            Reply::Failed { status: StatusCode::FORBIDDEN, message, .. } => {
                let name = message.as_deref().and_then(permission_named_in).unwrap_or_else(|| permission.to_owned());
                if !missing.contains(&name) {
                    missing.push(name);
                }
            }
            Reply::Failed { status: StatusCode::TOO_MANY_REQUESTS, retry_after, .. } => {
                transient =
                    transient.or(Some(VerifyError::RateLimited { retry_after: retry_after.unwrap_or(2).max(1) }));
            }
            Reply::Timeout => transient = transient.or(Some(VerifyError::Timeout)),
            Reply::Failed { .. } | Reply::Unreachable(_) => transient = transient.or(Some(VerifyError::Unavailable)),
        }
    }
    if let Some(e) = transient {
        return Err(e);
    }
    if !missing.is_empty() {
        return Err(VerifyError::MissingPermissions(missing));
    }

    let [Reply::Ok(balance_body), rest @ ..] = &replies else { unreachable!("every reply is Ok here") };
    let balance: Balance = serde_json::from_slice(balance_body).map_err(|_| VerifyError::Unavailable)?;
    for reply in rest {
        if let Reply::Ok(body) = reply {
            serde_json::from_slice::<ListEnvelope>(body).map_err(|_| VerifyError::Unavailable)?;
        }
    }
    let key_is_live = key.mode().is_live();
    if balance.livemode != key_is_live {
        return Err(VerifyError::ModeMismatch { key_is_live });
    }
    Ok(VerifiedAccount { livemode: balance.livemode, currency: main_currency(&balance) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_the_permission_from_stripes_403_text() {
        let msg = "The provided key 'rk_test_***qs8Kgd' does not have the required permissions for this endpoint on \
                   account 'acct_1PJBLEBBLEfV'. Having the 'rak_charge_read' permission would allow this request to continue.";
        assert_eq!(permission_named_in(msg).as_deref(), Some("rak_charge_read"));
        assert_eq!(permission_named_in("no permission named here"), None);
    }

    #[test]
    fn currency_is_the_largest_available_entry() {
        let b: Balance = serde_json::from_str(
            r#"{"livemode":true,"available":[{"amount":5,"currency":"usd"},{"amount":900,"currency":"eur"}],"pending":[]}"#,
        )
        .unwrap();
        assert_eq!(main_currency(&b).as_deref(), Some("EUR"));
    }
}
