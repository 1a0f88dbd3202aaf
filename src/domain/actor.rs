//! Who acted, as the audit log records it: a token, a website key, a browser session, an admin command.

use crate::domain::ObjectId;

#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: &'static str,
    pub id: Option<ObjectId>,
    pub user_id: Option<ObjectId>,
}

impl Actor {
    /// An admin command on the server itself.
    pub fn cli() -> Self {
        Self { kind: "cli", id: None, user_id: None }
    }

    /// A logged-in browser.
    pub fn session(user: &ObjectId) -> Self {
        Self { kind: "session", id: None, user_id: Some(user.clone()) }
    }

    /// First-run setup, creating the owner.
    pub fn setup(user: &ObjectId) -> Self {
        Self { kind: "setup", id: None, user_id: Some(user.clone()) }
    }

    /// Someone joining through an invitation link.
    pub fn invitation(invitation: &ObjectId, user: &ObjectId) -> Self {
        Self { kind: "invitation", id: Some(invitation.clone()), user_id: Some(user.clone()) }
    }
}
