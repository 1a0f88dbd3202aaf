//! The Stripe restricted key as a domain type: parsing rules of contract §4 steps 2–4.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::domain::environment::Environment;

/// Every way of not sending a string `stripeRak` answers this (contract §4 step 1).
pub const KEY_REQUIRED: &str = "stripeRak is required";
pub const INVALID_FORMAT: &str = "Invalid key format (must start with rk_)";
pub const TEST_KEY_IN_PRODUCTION: &str =
    "Test keys are not allowed in production; use a live restricted key (rk_live_...)";
const MAX_LEN: usize = 255;
const MIN_SECRET_LEN: usize = 10;

/// Live or test mode, read from the key's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StripeMode {
    Live,
    Test,
}

impl StripeMode {
    pub fn is_live(self) -> bool {
        self == Self::Live
    }
}

/// A syntactically valid `rk_live_…` / `rk_test_…` key. Its `Debug` never prints the secret.
pub struct StripeRestrictedKey {
    secret: SecretString,
    mode: StripeMode,
}

impl StripeRestrictedKey {
    /// Trims surrounding whitespace, then checks prefix, mode, character set and length.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        let (mode, rest) = if let Some(rest) = trimmed.strip_prefix("rk_live_") {
            (StripeMode::Live, rest)
        } else if let Some(rest) = trimmed.strip_prefix("rk_test_") {
            (StripeMode::Test, rest)
        } else {
            return Err(INVALID_FORMAT);
        };
        let well_formed =
            trimmed.len() <= MAX_LEN && rest.len() >= MIN_SECRET_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric());
        if !well_formed {
            return Err(INVALID_FORMAT);
        }
        Ok(Self { secret: SecretString::from(trimmed.to_owned()), mode })
    }

    /// `parse`, then the installation's rule: production refuses test keys.
    pub fn parse_for(raw: &str, environment: Environment) -> Result<Self, &'static str> {
        let key = Self::parse(raw)?;
        if environment == Environment::Production && key.mode == StripeMode::Test {
            return Err(TEST_KEY_IN_PRODUCTION);
        }
        Ok(key)
    }

    pub fn mode(&self) -> StripeMode {
        self.mode
    }

    /// The key to send to Stripe. Callers must not log or store it in plain text.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    /// What the settings show: the prefix and the last four characters (`rk_live_…wxyz`).
    pub fn masked(&self) -> String {
        let key = self.expose();
        let prefix = if self.mode.is_live() { "rk_live_" } else { "rk_test_" };
        format!("{prefix}...{}", &key[key.len() - 4..])
    }
}

impl fmt::Debug for StripeRestrictedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StripeRestrictedKey({:?}, [redacted])", self.mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: &str = "rk_live_51AbCdEfGhIjKlMnOp";

    #[test]
    fn accepts_live_and_test_keys_and_trims() {
        let k = StripeRestrictedKey::parse(&format!("  {LIVE}\n")).unwrap();
        assert_eq!(k.mode(), StripeMode::Live);
        assert_eq!(k.expose(), LIVE);
        let t = StripeRestrictedKey::parse("rk_test_0123456789").unwrap();
        assert_eq!(t.mode(), StripeMode::Test);
    }

    #[test]
    fn rejects_other_key_kinds_and_malformed_keys() {
        for bad in [
            "sk_live_51AbCdEfGhIjKlMnOp",
            "pk_test_51AbCdEfGhIjKlMnOp",
            "rk_prod_51AbCdEfGhIjKlMnOp",
            "rk_live_short",
            "rk_live_has-a-dash-inside",
            "rk_live_has space inside",
            "",
            "rk_",
        ] {
            assert_eq!(StripeRestrictedKey::parse(bad).unwrap_err(), INVALID_FORMAT, "{bad}");
        }
    }

    #[test]
    fn production_refuses_test_keys() {
        assert_eq!(
            StripeRestrictedKey::parse_for("rk_test_0123456789", Environment::Production).unwrap_err(),
            TEST_KEY_IN_PRODUCTION
        );
        assert!(StripeRestrictedKey::parse_for("rk_test_0123456789", Environment::Development).is_ok());
        assert!(StripeRestrictedKey::parse_for(LIVE, Environment::Production).is_ok());
        assert_eq!(
            StripeRestrictedKey::parse_for("sk_live_0123456789", Environment::Production).unwrap_err(),
            INVALID_FORMAT
        );
    }

    #[test]
    fn enforces_the_255_character_ceiling() {
        let at_limit = format!("rk_live_{}", "a".repeat(255 - 8));
        assert!(StripeRestrictedKey::parse(&at_limit).is_ok());
        let over = format!("rk_live_{}", "a".repeat(256 - 8));
        assert!(StripeRestrictedKey::parse(&over).is_err());
    }

    #[test]
    fn debug_and_mask_hide_the_secret() {
        let k = StripeRestrictedKey::parse(LIVE).unwrap();
        assert!(!format!("{k:?}").contains("AbCd"));
        assert_eq!(k.masked(), "rk_live_...MnOp");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = StripeRestrictedKey::parse(&raw);
        }

        #[test]
        fn accepted_keys_round_trip_and_mask_to_their_last_four(
            live in any::<bool>(),
            secret in "[A-Za-z0-9]{10,240}",
            pad in "[ \t\n]{0,3}",
        ) {
            let prefix = if live { "rk_live_" } else { "rk_test_" };
            let raw = format!("{pad}{prefix}{secret}{pad}");
            let key = StripeRestrictedKey::parse(&raw).unwrap();
            prop_assert_eq!(key.expose(), format!("{prefix}{secret}"));
            prop_assert_eq!(key.mode().is_live(), live);
            let again = StripeRestrictedKey::parse(key.expose()).unwrap();
            prop_assert_eq!(again.expose(), key.expose());
            let masked = key.masked();
            prop_assert_eq!(&masked, &format!("{prefix}...{}", &secret[secret.len() - 4..]));
            prop_assert!(!masked.contains(&secret));
        }

        #[test]
        fn anything_accepted_is_a_restricted_key(raw in "(rk_(live|test)_)?[ -~]{0,40}") {
            if let Ok(key) = StripeRestrictedKey::parse(&raw) {
                let exposed = key.expose();
                prop_assert!(exposed.starts_with("rk_live_") || exposed.starts_with("rk_test_"));
                prop_assert!(exposed[8..].len() >= 10 && exposed[8..].bytes().all(|b| b.is_ascii_alphanumeric()));
            }
        }
    }
}
