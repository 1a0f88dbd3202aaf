//! Bearer secrets (`dft_` account tokens, `df_` website keys): generation, hashing, masking.

use std::fmt;

use rand::RngExt;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

/// 32 base62 characters carry about 190 bits, above the contract's 160.
const SECRET_CHARS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `dft_`: an account token.
    Account,
    /// `df_`: a website API key.
    WebsiteKey,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Account => "dft_",
            Self::WebsiteKey => "df_",
        }
    }

    /// Which kind a presented bearer value claims to be (`dft_` is checked first: it also starts with `df`).
    pub fn of(raw: &str) -> Option<Self> {
        if raw.starts_with("dft_") {
            Some(Self::Account)
        } else if raw.starts_with("df_") {
            Some(Self::WebsiteKey)
        } else {
            None
        }
    }
}

/// A freshly generated raw secret, shown once and then only kept as its hash.
pub struct NewSecret {
    raw: String,
}

impl NewSecret {
    pub fn generate(kind: TokenKind) -> Self {
        let body: String = rand::rng().sample_iter(Alphanumeric).take(SECRET_CHARS).map(char::from).collect();
        Self { raw: format!("{}{body}", kind.prefix()) }
    }

    pub fn hash(&self) -> [u8; 32] {
        hash_secret(&self.raw)
    }

    pub fn display_key(&self) -> String {
        display_key(&self.raw)
    }

    /// The raw value, for the one response that shows it.
    pub fn into_raw(self) -> String {
        self.raw
    }
}

impl fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewSecret([redacted])")
    }
}

/// SHA-256 of the whole presented value; the only form in which secrets are stored.
pub fn hash_secret(raw: &str) -> [u8; 32] {
    Sha256::digest(raw.as_bytes()).into()
}

/// The first 7 characters, `...`, the last 4 (`dft_ab1...xyz9`).
pub fn display_key(raw: &str) -> String {
    format!("{}...{}", &raw[..7], &raw[raw.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_have_prefix_length_and_charset() {
        let s = NewSecret::generate(TokenKind::Account).into_raw();
        assert!(s.starts_with("dft_"));
        assert_eq!(s.len(), 4 + SECRET_CHARS);
        assert!(s[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        let k = NewSecret::generate(TokenKind::WebsiteKey).into_raw();
        assert!(k.starts_with("df_") && !k.starts_with("dft_"));
    }

    #[test]
    fn display_key_masks_the_middle() {
        assert_eq!(display_key("dft_ab1cdefghijklmnopqrstuvwxyz9"), "dft_ab1...xyz9");
    }

    #[test]
    fn kind_of_tells_dft_from_df() {
        assert_eq!(TokenKind::of("dft_x"), Some(TokenKind::Account));
        assert_eq!(TokenKind::of("df_x"), Some(TokenKind::WebsiteKey));
        assert_eq!(TokenKind::of("sk_x"), None);
    }

    #[test]
    fn hash_is_sha256() {
        assert_eq!(hex::encode(hash_secret("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
