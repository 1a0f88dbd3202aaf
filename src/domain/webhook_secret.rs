//! A Stripe webhook signing secret (`whsec_…`) as a domain type: the rule a pasted secret must pass before it is
//! sealed and stored. Stripe's own secrets are `whsec_` and 32 alphanumeric characters (the Stripe CLI's, 64 hex
//! digits); the character set also allows base64's, so that no secret Stripe issues is refused.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// The field's name in the API bodies and the page's form.
pub const FIELD: &str = "stripeWebhookSecret";
pub const SECRET_REQUIRED: &str = "stripeWebhookSecret is required";
pub const INVALID_SECRET: &str = "Invalid webhook signing secret (must start with whsec_ followed by 8 to 250 \
                                  letters or digits); copy it from the endpoint's page in Stripe";
const PREFIX: &str = "whsec_";
const MIN_LEN: usize = 8;
const MAX_LEN: usize = 250;

/// A syntactically valid `whsec_…` secret. Its `Debug` never prints the secret.
pub struct StripeWebhookSecret(SecretString);

impl StripeWebhookSecret {
    /// Trims surrounding whitespace, then checks the prefix, the length and the character set.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        let rest = trimmed.strip_prefix(PREFIX).ok_or(INVALID_SECRET)?;
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-');
        if !(MIN_LEN..=MAX_LEN).contains(&rest.len()) || !rest.bytes().all(allowed) {
            return Err(INVALID_SECRET);
        }
        Ok(Self(SecretString::from(trimmed.to_owned())))
    }

    /// The secret to seal. Callers must not log or show it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for StripeWebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StripeWebhookSecret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dashboard_and_cli_secrets_trimmed() {
        let dashboard = "whsec_5fG8hJ2kL9mN3pQ7rS1tU4vW6xY0zA2b";
        assert_eq!(StripeWebhookSecret::parse(&format!(" {dashboard}\n")).unwrap().expose(), dashboard);
        let cli = format!("whsec_{}", "0123456789abcdef".repeat(4));
        assert!(StripeWebhookSecret::parse(&cli).is_ok());
        assert!(StripeWebhookSecret::parse("whsec_ab+/=_-cdEF").is_ok());
    }

    #[test]
    fn refuses_other_keys_and_malformed_secrets() {
        for bad in [
            "",
            "whsec_",
            "whsec_short",
            "rk_live_51AbCdEfGhIjKlMnOp",
            "sk_live_51AbCdEfGhIjKlMnOp",
            "WHSEC_abcdefghijklmnop",
            "whsec_has space inside",
            "whsec_<script>alert(1)</script>",
            "whsec_abcdefgh\u{e9}ijkl",
        ] {
            assert_eq!(StripeWebhookSecret::parse(bad).unwrap_err(), INVALID_SECRET, "{bad}");
        }
        assert!(StripeWebhookSecret::parse(&format!("whsec_{}", "a".repeat(250))).is_ok());
        assert!(StripeWebhookSecret::parse(&format!("whsec_{}", "a".repeat(251))).is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let s = StripeWebhookSecret::parse("whsec_5fG8hJ2kL9mN3pQ7").unwrap();
        assert!(!format!("{s:?}").contains("5fG8"));
    }
}
