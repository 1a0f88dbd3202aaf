//! Credentials as the rest of revlink sees them: the access-token and website-key objects of the
//! contract, the records the auth guard works with, and `Caller`, the authenticated credential of a request.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::account::SessionRecord;
use crate::domain::{Actor, ObjectId, PermissionSet};

/// The access-token object of the contract; `key` only on create.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenView {
    #[serde(rename = "_id")]
    #[schema(value_type = String)]
    pub id: ObjectId,
    pub name: Option<String>,
    pub display_key: String,
    #[schema(example = "user")]
    pub scope: &'static str,
    #[schema(value_type = Vec<String>, example = json!(["*"]))]
    pub permissions: PermissionSet,
    #[schema(value_type = Vec<String>)]
    pub website_ids: Vec<ObjectId>,
    pub last_used_at: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The website-key object of the contract; `key` only on create and roll.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebsiteKeyView {
    #[serde(rename = "_id")]
    #[schema(value_type = String)]
    pub id: ObjectId,
    pub name: Option<String>,
    pub display_key: String,
    #[schema(value_type = String)]
    pub website_id: ObjectId,
    pub last_used_at: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// An access token as the auth guard needs it.
pub struct TokenRecord {
    pub id: ObjectId,
    pub user_id: ObjectId,
    pub permissions: PermissionSet,
    pub website_ids: Vec<ObjectId>,
    pub last_used_at: Option<String>,
}

/// A website key as the auth guard needs it.
pub struct KeyRecord {
    pub id: ObjectId,
    pub website_id: ObjectId,
    pub last_used_at: Option<String>,
}

/// The authenticated credential of a request.
pub enum Caller {
    Token(TokenRecord),
    WebsiteKey(KeyRecord),
    /// A logged-in browser: its user, with every permission, limited by role.
    Session(SessionRecord),
}

impl Caller {
    pub fn actor(&self) -> Actor {
        match self {
            Self::Token(t) => Actor { kind: "token", id: Some(t.id.clone()), user_id: Some(t.user_id.clone()) },
            Self::WebsiteKey(k) => Actor { kind: "website_key", id: Some(k.id.clone()), user_id: None },
            Self::Session(s) => Actor::session(&s.user_id),
        }
    }

    /// The user, permissions and allowlist of an account-level caller (a token or a session).
    pub fn account(&self) -> Option<(&ObjectId, &PermissionSet, &[ObjectId])> {
        static ALL: std::sync::LazyLock<PermissionSet> = std::sync::LazyLock::new(PermissionSet::all);
        match self {
            Self::Token(t) => Some((&t.user_id, &t.permissions, &t.website_ids)),
            Self::Session(s) => Some((&s.user_id, &ALL, &[])),
            Self::WebsiteKey(_) => None,
        }
    }
}

/// A new token's permissions (default `["*"]`) and website allowlist (default `[]`, all the user's
/// websites), parsed; duplicate website ids are dropped.
pub fn parse_scope(
    permissions: Option<&[String]>,
    website_ids: Option<&[String]>,
) -> Result<(PermissionSet, Vec<ObjectId>), String> {
    let permissions = match permissions {
        None => PermissionSet::all(),
        Some([]) => return Err("permissions must not be empty; omit it for [\"*\"]".into()),
        Some(list) => PermissionSet::parse(list)?,
    };
    let mut ids = Vec::new();
    for raw in website_ids.unwrap_or_default() {
        let id = ObjectId::parse(raw).ok_or_else(|| format!("Invalid websiteId in websiteIds: {raw:?}"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok((permissions, ids))
}
