//! Permissions, roles and the rule that combines them (contract §2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Every permission string the Account API knows, in the contract's order.
pub const PERMISSIONS: [&str; 18] = [
    "analytics:read",
    "goals:read",
    "goals:write",
    "payments:read",
    "payments:write",
    "identify:write",
    "websites:read",
    "websites:write",
    "settings:read",
    "settings:write",
    "funnels:read",
    "funnels:write",
    "alerts:read",
    "alerts:write",
    "team:read",
    "team:write",
    "api-keys:read",
    "api-keys:write",
];

/// One permission, or `*` (all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    All,
    /// Index into [`PERMISSIONS`].
    Named(u8),
}

impl Permission {
    pub const ANALYTICS_READ: Self = Self::named("analytics:read");
    pub const GOALS_WRITE: Self = Self::named("goals:write");
    pub const IDENTIFY_WRITE: Self = Self::named("identify:write");
    pub const PAYMENTS_READ: Self = Self::named("payments:read");
    pub const PAYMENTS_WRITE: Self = Self::named("payments:write");
    pub const WEBSITES_READ: Self = Self::named("websites:read");
    pub const WEBSITES_WRITE: Self = Self::named("websites:write");
    pub const SETTINGS_READ: Self = Self::named("settings:read");
    pub const SETTINGS_WRITE: Self = Self::named("settings:write");
    pub const TEAM_READ: Self = Self::named("team:read");
    pub const TEAM_WRITE: Self = Self::named("team:write");
    pub const API_KEYS_READ: Self = Self::named("api-keys:read");
    pub const API_KEYS_WRITE: Self = Self::named("api-keys:write");

    const fn named(name: &str) -> Self {
        let mut i = 0;
        while i < PERMISSIONS.len() {
            if const_str_eq(PERMISSIONS[i], name) {
                #[allow(clippy::cast_possible_truncation)] // 18 permissions
                return Self::Named(i as u8);
            }
            i += 1;
        }
        panic!("unknown permission constant");
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "*",
            Self::Named(i) => PERMISSIONS[usize::from(i)],
        }
    }

    /// Read permissions are the only ones a viewer's role allows.
    pub fn is_read(self) -> bool {
        self.as_str().ends_with(":read")
    }
}

const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl FromStr for Permission {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "*" {
            return Ok(Self::All);
        }
        PERMISSIONS
            .iter()
            .position(|p| *p == s)
            .and_then(|i| u8::try_from(i).ok())
            .map(Self::Named)
            .ok_or_else(|| format!("Unknown permission: {s}. Use \"*\" or any of: {}", PERMISSIONS.join(", ")))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// A token's permission list. `["*"]` grants everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PermissionSet(Vec<Permission>);

impl PermissionSet {
    pub fn all() -> Self {
        Self(vec![Permission::All])
    }

    /// Parses a list of permission strings; duplicates are dropped and `*` absorbs the rest.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, String> {
        let mut out: Vec<Permission> = Vec::with_capacity(items.len());
        for item in items {
            let p: Permission = item.as_ref().parse()?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
        if out.contains(&Permission::All) {
            return Ok(Self::all());
        }
        Ok(Self(out))
    }

    pub fn grants(&self, p: Permission) -> bool {
        self.0.iter().any(|have| *have == Permission::All || *have == p)
    }

    /// True when every permission in `other` is also granted by `self`.
    pub fn covers(&self, other: &Self) -> bool {
        other.0.iter().all(|p| self.grants(*p))
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }
}

/// A person's role on one website.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Member,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Member => "member",
            Self::Viewer => "viewer",
        }
    }

    /// Whether this role may perform an action needing `p` (and, when `owner_only`, ownership).
    pub fn allows(self, p: Permission, owner_only: bool) -> bool {
        match self {
            Self::Owner => true,
            Self::Member => !owner_only,
            Self::Viewer => !owner_only && p.is_read(),
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Self::Owner),
            "member" => Ok(Self::Member),
            "viewer" => Ok(Self::Viewer),
            other => Err(format!("Unknown role: {other}. Use viewer or member")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl rusqlite::types::FromSql for Role {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value.as_str()?.parse().map_err(|e: String| rusqlite::types::FromSqlError::Other(e.into()))
    }
}

impl rusqlite::ToSql for Role {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_absorbs_everything_and_unknown_strings_fail() {
        assert_eq!(PermissionSet::parse(&["analytics:read", "*"]).unwrap(), PermissionSet::all());
        let err = PermissionSet::parse(&["analytics:read", "everything"]).unwrap_err();
        assert!(err.contains("everything"), "{err}");
    }

    #[test]
    fn covers_compares_grants() {
        let all = PermissionSet::all();
        let read = PermissionSet::parse(&["settings:read"]).unwrap();
        let write = PermissionSet::parse(&["settings:read", "settings:write"]).unwrap();
        assert!(all.covers(&write));
        assert!(write.covers(&read));
        assert!(!read.covers(&write));
        assert!(!read.covers(&all));
    }

    #[test]
    fn roles_follow_the_matrix() {
        let (r, w) = (Permission::SETTINGS_READ, Permission::SETTINGS_WRITE);
        assert!(Role::Viewer.allows(r, false));
        assert!(!Role::Viewer.allows(w, false));
        assert!(Role::Member.allows(w, false));
        assert!(!Role::Member.allows(Permission::TEAM_WRITE, true));
        assert!(Role::Owner.allows(Permission::TEAM_WRITE, true));
    }

    #[test]
    fn constants_name_their_strings() {
        assert_eq!(Permission::API_KEYS_WRITE.as_str(), "api-keys:write");
        assert_eq!(Permission::ANALYTICS_READ.as_str(), "analytics:read");
    }
}
