//! Verification of a restricted key (contract §4 step 6): the balance, then the first page (`limit=1`) of every list
//! the import reads, as it reads it (same filters, same `expand[]`), and of the lists the optional permissions
//! open, all at once. Every missing required permission is named together; missing optional ones only say so.

use futures_util::future::join_all;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::integrations::OptionalPermissions;
use crate::domain::stripe_key::StripeRestrictedKey;
use crate::error::Error;
use crate::providers::stripe::client::{Reply, StripeClient};
use crate::providers::stripe::lists;
use crate::providers::stripe::permissions::{self, Optional, PERMISSIONS, Probe};

/// What verification learned about the account.
#[derive(Debug)]
pub struct VerifiedAccount {
    pub livemode: bool,
    /// Upper-case ISO code of the largest available balance, if the balance lists any.
    pub currency: Option<String>,
    /// Which optional permissions the key has.
    pub optional: OptionalPermissions,
    /// The id of the account's newest charge, if it has one (to recognise the account at the next key).
    pub newest_charge: Option<String>,
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

/// A list answer, read only as far as verification needs: its absence of `data` means the body is not one.
#[derive(Deserialize)]
struct ListEnvelope {
    data: Vec<Identified>,
}

#[derive(Deserialize)]
struct Identified {
    id: String,
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

/// What one probe found.
enum Found {
    Ok(bytes::Bytes),
    /// A 403 (naming this permission), or (for an optional permission) a list this server does not have.
    Missing(String),
    /// Decides the whole verification (401, 429, 5xx, timeouts…).
    Failed(VerifyError),
}

fn judge(reply: Reply, permission: &str, optional: bool) -> Found {
    match reply {
        Reply::Ok(body) => Found::Ok(body),
        Reply::Failed { status: StatusCode::UNAUTHORIZED, .. } => Found::Failed(VerifyError::Rejected),
        Reply::Failed { status: StatusCode::FORBIDDEN, message, .. } => {
            Found::Missing(message.as_deref().and_then(permission_named_in).unwrap_or_else(|| permission.to_owned()))
        }
        // A Stripe-compatible server without the list (localstripe has no disputes): the feature is not there.
        Reply::Failed { status: StatusCode::NOT_FOUND, .. } if optional => {
            tracing::info!(permission, "Stripe has no list for this optional permission here");
            Found::Missing(permission.to_owned())
        }
        Reply::Failed { status: StatusCode::TOO_MANY_REQUESTS, retry_after, .. } => {
            Found::Failed(VerifyError::RateLimited { retry_after: retry_after.unwrap_or(2).max(1) })
        }
        Reply::Timeout => Found::Failed(VerifyError::Timeout),
        Reply::Failed { .. } | Reply::Unreachable(_) => Found::Failed(VerifyError::Unavailable),
    }
}

pub async fn verify(client: &StripeClient, key: &StripeRestrictedKey) -> Result<VerifiedAccount, VerifyError> {
    let probes: Vec<(&Probe, &str, bool)> = PERMISSIONS
        .iter()
        .flat_map(|p| p.probes.iter().map(move |probe| (probe, p.name, p.optional.is_some())))
        .collect();
    let urls: Vec<String> = probes.iter().map(|(probe, ..)| probe.path_and_query()).collect();
    let replies = join_all(urls.iter().map(|url| client.get(key.secret(), url))).await;

    // A rejected key decides; then the first other failure that is not a permission, in the list's order; then the
    // missing required permissions; then an answer that is not what Stripe sends.
    let mut missing: Vec<String> = Vec::new();
    let mut failure = None;
    let mut unreadable = false;
    let mut optional = OptionalPermissions::default();
    let (mut balance, mut newest_charge) = (None, None);
    for ((probe, permission, is_optional), reply) in probes.iter().zip(replies) {
        match judge(reply, permission, *is_optional) {
            Found::Ok(body) => {
                match probe {
                    Probe::Balance => balance = Some(body),
                    Probe::List(call) => match serde_json::from_slice::<ListEnvelope>(&body) {
                        Ok(list) if *call == lists::CHARGES => {
                            newest_charge = list.data.into_iter().next().map(|c| c.id);
                        }
                        Ok(_) => {}
                        Err(_) => unreadable = true,
                    },
                }
                if let Some(o) = PERMISSIONS.iter().find(|p| p.name == *permission).and_then(|p| p.optional) {
                    optional.set(o.feature, true);
                }
            }
            Found::Missing(name) if !*is_optional => {
                if !missing.contains(&name) {
                    missing.push(name);
                }
            }
            Found::Missing(_) => {}
            Found::Failed(VerifyError::Rejected) => return Err(VerifyError::Rejected),
            Found::Failed(e) => failure = failure.or(Some(e)),
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if !missing.is_empty() {
        return Err(VerifyError::MissingPermissions(missing));
    }
    if unreadable {
        return Err(VerifyError::Unavailable);
    }

    let balance: Balance =
        balance.and_then(|body| serde_json::from_slice(&body).ok()).ok_or(VerifyError::Unavailable)?;
    let key_is_live = key.mode().is_live();
    if balance.livemode != key_is_live {
        return Err(VerifyError::ModeMismatch { key_is_live });
    }
    Ok(VerifiedAccount { livemode: balance.livemode, currency: main_currency(&balance), optional, newest_charge })
}

/// The optional permissions alone, checked again at each sync (a merchant may grant one in Stripe's dashboard after
/// connecting). `None` when a probe got no clear answer (the stored flags then stay as they are).
pub async fn optional_permissions(client: &StripeClient, key: &SecretString) -> Option<OptionalPermissions> {
    let probes: Vec<(&Probe, Optional)> =
        permissions::optional().flat_map(|(p, o)| p.probes.iter().map(move |probe| (probe, o))).collect();
    let urls: Vec<String> = probes.iter().map(|(probe, _)| probe.path_and_query()).collect();
    let replies = join_all(urls.iter().map(|url| client.get(key, url))).await;
    let mut granted = OptionalPermissions::default();
    for ((_, o), reply) in probes.iter().zip(replies) {
        match judge(reply, "", true) {
            Found::Ok(_) => granted.set(o.feature, true),
            Found::Missing(_) => {}
            Found::Failed(_) => return None,
        }
    }
    Some(granted)
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
