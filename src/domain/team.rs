//! A website's team: members with their roles, and invitations.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{ObjectId, Role};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamMember {
    #[schema(value_type = String)]
    pub user_id: ObjectId,
    pub name: Option<String>,
    pub email: String,
    pub image: Option<String>,
    #[schema(value_type = String, example = "viewer")]
    pub role: Role,
    pub joined_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub message: &'static str,
    #[schema(value_type = String)]
    pub invitation_id: ObjectId,
    pub email: String,
    #[schema(value_type = String, example = "viewer")]
    pub role: Role,
    /// The link to send (revlink's addition): opening it joins the website, creating an account if needed.
    pub invite_url: String,
}

/// How long an invitation link works after it was sent (or sent again with a new link).
pub const INVITATION_LIFETIME_DAYS: i64 = 7;

/// An invitation as the Team page lists it: who, with which role, sent when and by whom, expiring when. Its
/// link is not here: only a hash of it is stored, so a lost link is replaced by a new one.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentInvitation {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub email: String,
    pub role: Role,
    /// The inviter's address (`None` once their account is gone).
    pub invited_by: Option<String>,
    pub sent_at: String,
    pub expires_at: String,
    pub expired: bool,
}

/// A pending invitation, found by the secret in its link.
pub struct PendingInvitation {
    pub id: ObjectId,
    pub website_id: ObjectId,
    pub domain: String,
    pub email: String,
    pub role: Role,
}

/// The role of an invitation: `viewer` (the default) or `member`; owners are never invited.
pub fn parse_invited_role(raw: Option<&str>) -> Result<Role, String> {
    match raw.map(str::trim) {
        None | Some("viewer") => Ok(Role::Viewer),
        Some("member") => Ok(Role::Member),
        Some(other) => Err(format!("Invalid role {other:?}: use viewer or member")),
    }
}
