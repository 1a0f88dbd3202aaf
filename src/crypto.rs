//! The AES-256-GCM box for stored secrets, the master key that opens it, and `StripeKeyBox`, the one
//! place that knows a stored Stripe key is sealed with its website as associated data (and, through
//! `WebhookSecretBox`, how a webhook signing secret is).

use std::fmt;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::ObjectId;

pub const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the master key must be 64 hexadecimal characters (32 bytes)")]
    MalformedKey,
    #[error("a stored secret could not be decrypted: wrong master key, or the data was altered")]
    Undecryptable,
}

/// A sealed secret: a fresh 96-bit nonce and the ciphertext with its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// The 256-bit key that encrypts every stored secret. Its `Debug` never prints the key.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
}

impl MasterKey {
    /// Parses 64 hex characters (surrounding whitespace, e.g. a file's trailing newline, is ignored).
    pub fn from_hex(hex_key: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| CryptoError::MalformedKey)?;
        let key = Key::<Aes256Gcm>::try_from(bytes.as_slice()).map_err(|_| CryptoError::MalformedKey)?;
        Ok(Self { cipher: Aes256Gcm::new(&key) })
    }

    /// A new random key, hex-encoded, for writing to a key file.
    pub fn generate_hex() -> String {
        hex::encode(rand::random::<[u8; 32]>())
    }

    /// Encrypts `plaintext`, binding `associated_data` (the website id) into the tag.
    ///
    /// # Panics
    /// Only for a plaintext beyond AES-GCM's 64 GiB bound; secrets are at most a few hundred bytes.
    pub fn seal(&self, plaintext: &str, associated_data: &[u8]) -> Sealed {
        let nonce = Nonce::generate();
        let ciphertext = self
            .cipher
            .encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: associated_data })
            // Encryption only fails for inputs beyond GCM's 64 GiB bound; a key is at most 255 bytes.
            .expect("AES-GCM encryption of a short secret cannot fail");
        Sealed { nonce: nonce.to_vec(), ciphertext }
    }

    /// Decrypts, checking the tag against the same associated data.
    pub fn open(&self, sealed: &Sealed, associated_data: &[u8]) -> Result<SecretString, CryptoError> {
        let nonce = Nonce::try_from(sealed.nonce.as_slice()).map_err(|_| CryptoError::Undecryptable)?;
        let plain = self
            .cipher
            .decrypt(&nonce, Payload { msg: &sealed.ciphertext, aad: associated_data })
            .map_err(|_| CryptoError::Undecryptable)?;
        let text = String::from_utf8(plain).map_err(|_| CryptoError::Undecryptable)?;
        Ok(SecretString::from(text))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// Seals and opens stored Stripe keys. The website a key belongs to is the associated data, so a sealed
/// key copied into another website's row does not open.
#[derive(Clone, Debug)]
pub struct StripeKeyBox {
    master: MasterKey,
}

impl StripeKeyBox {
    pub fn new(master: MasterKey) -> Self {
        Self { master }
    }

    pub fn seal(&self, website: &ObjectId, secret: &str) -> Sealed {
        self.master.seal(secret, website.as_str().as_bytes())
    }

    pub fn open(&self, website: &ObjectId, sealed: &Sealed) -> Result<SecretString, CryptoError> {
        self.master.open(sealed, website.as_str().as_bytes())
    }

    /// The same key sealed under `to`'s master key (master key rotation).
    pub fn reseal(&self, to: &Self, website: &ObjectId, sealed: &Sealed) -> Result<Sealed, CryptoError> {
        let plain = self.open(website, sealed)?;
        Ok(to.seal(website, plain.expose_secret()))
    }
}

/// Seals and opens stored Stripe webhook signing secrets (`whsec_…`) under the same master key. The associated
/// data is the website with a purpose suffix, so a secret copied into another website's row does not open, and
/// neither does the website's own Stripe key put in its place (nor the other way round).
#[derive(Clone, Debug)]
pub struct WebhookSecretBox {
    master: MasterKey,
}

impl WebhookSecretBox {
    fn associated_data(website: &ObjectId) -> Vec<u8> {
        format!("{website}:stripe-webhook-secret").into_bytes()
    }

    pub fn seal(&self, website: &ObjectId, secret: &str) -> Sealed {
        self.master.seal(secret, &Self::associated_data(website))
    }

    pub fn open(&self, website: &ObjectId, sealed: &Sealed) -> Result<SecretString, CryptoError> {
        self.master.open(sealed, &Self::associated_data(website))
    }

    /// The same secret sealed under `to`'s master key (master key rotation).
    pub fn reseal(&self, to: &Self, website: &ObjectId, sealed: &Sealed) -> Result<Sealed, CryptoError> {
        let plain = self.open(website, sealed)?;
        Ok(to.seal(website, plain.expose_secret()))
    }
}

impl StripeKeyBox {
    /// The box for webhook signing secrets, under this box's master key.
    pub fn webhook_secrets(&self) -> WebhookSecretBox {
        WebhookSecretBox { master: self.master.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "rk_live_51AbCdEfGhIjKlMnOpQrStUv";
    const AD: &[u8] = b"665f0b3c4d2e1a0012345678";

    fn key() -> MasterKey {
        MasterKey::from_hex(&MasterKey::generate_hex()).unwrap()
    }

    #[test]
    fn round_trip() {
        let k = key();
        let sealed = k.seal(SECRET, AD);
        assert_eq!(sealed.nonce.len(), NONCE_LEN);
        assert!(!sealed.ciphertext.windows(8).any(|w| w == &SECRET.as_bytes()[..8]));
        assert_eq!(k.open(&sealed, AD).unwrap().expose_secret(), SECRET);
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let k = key();
        let (a, b) = (k.seal(SECRET, AD), k.seal(SECRET, AD));
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn tampered_ciphertext_nonce_or_truncation_fails() {
        let k = key();
        let sealed = k.seal(SECRET, AD);
        for i in [0, sealed.ciphertext.len() / 2, sealed.ciphertext.len() - 1] {
            let mut bad = sealed.clone();
            bad.ciphertext[i] ^= 0x01;
            assert!(k.open(&bad, AD).is_err(), "flipped byte {i}");
        }
        let mut bad_nonce = sealed.clone();
        bad_nonce.nonce[0] ^= 0x80;
        assert!(k.open(&bad_nonce, AD).is_err());
        let mut short = sealed.clone();
        short.ciphertext.truncate(10);
        assert!(k.open(&short, AD).is_err());
        let mut wrong_len = sealed;
        wrong_len.nonce.pop();
        assert!(k.open(&wrong_len, AD).is_err());
    }

    #[test]
    fn wrong_associated_data_fails() {
        let k = key();
        let sealed = k.seal(SECRET, AD);
        assert!(k.open(&sealed, b"665f0b3c4d2e1a0012345679").is_err());
    }

    #[test]
    fn wrong_master_key_fails() {
        let sealed = key().seal(SECRET, AD);
        assert!(key().open(&sealed, AD).is_err());
    }

    #[test]
    fn rotation_reseals_under_the_new_key() {
        let (old, new) = (key(), key());
        let sealed = old.seal(SECRET, AD);
        let resealed = new.seal(old.open(&sealed, AD).unwrap().expose_secret(), AD);
        assert_eq!(new.open(&resealed, AD).unwrap().expose_secret(), SECRET);
        assert!(old.open(&resealed, AD).is_err());
    }

    #[test]
    fn the_box_binds_a_key_to_its_website() {
        let site = ObjectId::parse("665f0b3c4d2e1a0012345678").unwrap();
        let other = ObjectId::parse("665f0b3c4d2e1a0012345679").unwrap();
        let keys = StripeKeyBox::new(key());
        let sealed = keys.seal(&site, SECRET);
        assert_eq!(keys.open(&site, &sealed).unwrap().expose_secret(), SECRET);
        assert!(keys.open(&other, &sealed).is_err(), "another website's row does not open it");
        let rotated = StripeKeyBox::new(key());
        let resealed = keys.reseal(&rotated, &site, &sealed).unwrap();
        assert_eq!(rotated.open(&site, &resealed).unwrap().expose_secret(), SECRET);
        assert!(keys.open(&site, &resealed).is_err());
    }

    #[test]
    fn a_webhook_secret_opens_only_as_its_websites_webhook_secret() {
        let site = ObjectId::parse("665f0b3c4d2e1a0012345678").unwrap();
        let other = ObjectId::parse("665f0b3c4d2e1a0012345679").unwrap();
        let keys = StripeKeyBox::new(key());
        let webhooks = keys.webhook_secrets();
        let sealed = webhooks.seal(&site, "whsec_abcdefghijklmnop");
        assert_eq!(webhooks.open(&site, &sealed).unwrap().expose_secret(), "whsec_abcdefghijklmnop");
        assert!(webhooks.open(&other, &sealed).is_err(), "another website's row does not open it");
        assert!(keys.open(&site, &sealed).is_err(), "nor does it open as the website's Stripe key");
        assert!(webhooks.open(&site, &keys.seal(&site, SECRET)).is_err(), "nor the key as a webhook secret");
        let rotated = StripeKeyBox::new(key()).webhook_secrets();
        let resealed = webhooks.reseal(&rotated, &site, &sealed).unwrap();
        assert_eq!(rotated.open(&site, &resealed).unwrap().expose_secret(), "whsec_abcdefghijklmnop");
        assert!(webhooks.open(&site, &resealed).is_err());
    }

    #[test]
    fn malformed_keys_are_refused_and_debug_is_redacted() {
        assert!(MasterKey::from_hex("abcd").is_err());
        assert!(MasterKey::from_hex(&"zz".repeat(32)).is_err());
        let hex_key = MasterKey::generate_hex();
        let k = MasterKey::from_hex(&format!("{hex_key}\n")).unwrap();
        assert!(!format!("{k:?}").contains(&hex_key[..8]));
    }
}

/// Compares without an early exit, so timing tells nothing about how much matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// Argon2id (the crate's default parameters) in PHC string form.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::{Argon2, PasswordHasher};
    if password.chars().count() < 8 {
        return Err("the password must be at least 8 characters".into());
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches a PHC string made by `hash_password`.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::{Argon2, PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod password_tests {
    use super::*;

    #[test]
    fn argon2id_round_trip_and_rejection() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("wrong horse", &phc));
        assert!(hash_password("short").is_err());
    }
}
