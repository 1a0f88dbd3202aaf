//! Object ids: 24 lowercase hex characters, ObjectId-like (4-byte big-endian seconds + 8 random bytes).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A validated 24-hex-character id, as used for users, websites, tokens and keys.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ObjectId(String);

impl ObjectId {
    /// A fresh id: the current Unix time in seconds, then 8 random bytes.
    pub fn generate() -> Self {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        // Truncation to 32 bits is the ObjectId format; it wraps in 2106.
        let mut bytes = [0u8; 12];
        #[allow(clippy::cast_possible_truncation)]
        bytes[..4].copy_from_slice(&(secs as u32).to_be_bytes());
        rand::fill(&mut bytes[4..]);
        Self(hex::encode(bytes))
    }

    /// Accepts exactly 24 lowercase hex characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let valid = raw.len() == 24 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("malformed id {raw:?}")))
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({})", self.0)
    }
}

impl rusqlite::ToSql for ObjectId {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl rusqlite::types::FromSql for ObjectId {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let raw = value.as_str()?;
        Self::parse(raw).ok_or_else(|| rusqlite::types::FromSqlError::Other(format!("malformed id {raw:?}").into()))
    }
}

/// The website a route is about: the `<website_id>` segment of `/websites/<website_id>/...`, checked.
/// The access guard authorizes this same segment (see `auth::guards`), so a handler that takes a
/// `WebsiteId` holds the website the caller was authorized for.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct WebsiteId(ObjectId);

/// The name of the path segment every website-scoped route uses.
pub const WEBSITE_ID_PARAM: &str = "website_id";

impl WebsiteId {
    pub fn parse(raw: &str) -> crate::error::Result<Self> {
        parse_path_id(raw, "websiteId").map(Self)
    }

    pub fn id(&self) -> &ObjectId {
        &self.0
    }
}

impl From<ObjectId> for WebsiteId {
    fn from(id: ObjectId) -> Self {
        Self(id)
    }
}

impl std::ops::Deref for WebsiteId {
    type Target = ObjectId;

    fn deref(&self) -> &ObjectId {
        &self.0
    }
}

impl fmt::Display for WebsiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'a> rocket::request::FromParam<'a> for WebsiteId {
    type Error = crate::error::Error;

    fn from_param(param: &'a str) -> Result<Self, Self::Error> {
        Self::parse(param)
    }
}

/// Parses the id in a path parameter, naming the parameter in the error.
pub fn parse_path_id(raw: &str, param: &str) -> crate::error::Result<ObjectId> {
    ObjectId::parse(raw).ok_or_else(|| crate::error::Error::BadRequest(format!("Invalid {param}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_24_lowercase_hex_and_distinct() {
        let a = ObjectId::generate();
        let b = ObjectId::generate();
        assert_eq!(a.as_str().len(), 24);
        assert!(ObjectId::parse(a.as_str()).is_some());
        assert_ne!(a, b);
    }

    #[test]
    fn generated_ids_start_with_the_current_time() {
        let id = ObjectId::generate();
        let secs = u32::from_str_radix(&id.as_str()[..8], 16).unwrap();
        let now = u32::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap();
        assert!(now.abs_diff(secs) <= 2);
    }

    #[test]
    fn parse_rejects_wrong_length_case_and_characters() {
        assert!(ObjectId::parse("665f0b3c4d2e1a0012345678").is_some());
        assert!(ObjectId::parse("665F0B3C4D2E1A0012345678").is_none());
        assert!(ObjectId::parse("665f0b3c4d2e1a001234567").is_none());
        assert!(ObjectId::parse("665f0b3c4d2e1a00123456789").is_none());
        assert!(ObjectId::parse("665f0b3c4d2e1a001234567g").is_none());
        assert!(ObjectId::parse("").is_none());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_accepts_exactly_24_lowercase_hex(raw in "[0-9a-fA-Z]{0,30}|.{0,30}") {
            let valid = raw.len() == 24 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            prop_assert_eq!(ObjectId::parse(&raw).is_some(), valid);
            prop_assert_eq!(WebsiteId::parse(&raw).is_ok(), valid);
            if valid {
                prop_assert_eq!(ObjectId::parse(&raw).unwrap().into_string(), raw.clone());
                prop_assert_eq!(WebsiteId::parse(&raw).unwrap().to_string(), raw);
            }
        }

        #[test]
        fn every_24_hex_id_round_trips(raw in "[0-9a-f]{24}") {
            let id = ObjectId::parse(&raw).unwrap();
            prop_assert_eq!(ObjectId::parse(id.as_str()), Some(id.clone()));
            let website = WebsiteId::parse(&raw).unwrap();
            prop_assert_eq!(website.id(), &id);
        }
    }
}
