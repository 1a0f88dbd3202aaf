//! Cookieless visitor ids (contract §4): a keyed hash (HMAC-SHA256) of the client's address, its user agent
//! and the website, under a key that lives for one UTC day. The same browser on the same network is the
//! same visitor for that day on that website, and nothing links it across days or websites. The address goes
//! into the hash only: neither it nor the key is ever stored.

use std::net::IpAddr;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::ObjectId;

type HmacSha256 = Hmac<Sha256>;

/// One day's key, ready to hash with (HMAC's key schedule done once).
#[derive(Clone)]
pub struct CookielessKey(HmacSha256);

impl CookielessKey {
    /// A key from 64 secret bytes (SHA-256's block: the whole secret is used as it is). HMAC takes a key of
    /// any length, so this is never `None` in practice.
    pub fn new(secret: &[u8; 64]) -> Option<Self> {
        <HmacSha256 as KeyInit>::new_from_slice(secret).ok().map(Self)
    }

    /// The visitor id of this address and user agent on this website, shaped like the script's UUIDs.
    pub fn visitor_id(&self, address: IpAddr, user_agent: &str, website: &ObjectId) -> String {
        let mut mac = self.0.clone();
        match address {
            IpAddr::V4(v4) => mac.update(&v4.octets()),
            IpAddr::V6(v6) => mac.update(&v6.octets()),
        }
        // Lengths first: no two (user agent, website) pairs hash the same bytes.
        mac.update(&u64::try_from(user_agent.len()).unwrap_or(u64::MAX).to_be_bytes());
        mac.update(user_agent.as_bytes());
        mac.update(website.as_str().as_bytes());
        uuid_shaped(&mac.finalize().into_bytes()[..16])
    }
}

impl std::fmt::Debug for CookielessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookielessKey(..)")
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` from 16 bytes.
fn uuid_shaped(bytes: &[u8]) -> String {
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(n: u8) -> ObjectId {
        ObjectId::parse(&format!("665f0b3c4d2e1a00123456{n:02x}")).unwrap()
    }

    #[test]
    fn same_inputs_same_id_and_any_change_another() {
        let key = CookielessKey::new(&[7; 64]).unwrap();
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let id = key.visitor_id(ip, "UA", &site(1));
        assert_eq!(id, key.visitor_id(ip, "UA", &site(1)));
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_ne!(id, key.visitor_id(ip, "UA", &site(2)), "another website");
        assert_ne!(id, key.visitor_id("203.0.113.10".parse().unwrap(), "UA", &site(1)), "another address");
        assert_ne!(id, key.visitor_id(ip, "UA2", &site(1)), "another user agent");
        assert_ne!(id, CookielessKey::new(&[8; 64]).unwrap().visitor_id(ip, "UA", &site(1)), "another day's key");
    }
}
