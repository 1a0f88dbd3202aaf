//! Website members, their roles, and pending invitations.

use rusqlite::{Connection, TransactionBehavior, params};
use time::OffsetDateTime;

use crate::db::{self, audit, is_unique_violation};
use crate::domain::secret_token::hash_secret;
use crate::domain::team::{INVITATION_LIFETIME_DAYS, Invitation, PendingInvitation, SentInvitation, TeamMember};
use crate::domain::{Actor, ObjectId, Role};
use crate::error::{Error, Result};

/// When a link sent now stops working.
fn expiry_from_now() -> String {
    db::format_time(OffsetDateTime::now_utc() + time::Duration::days(INVITATION_LIFETIME_DAYS))
}

/// A new link's secret: 192 random bits, hex. Only its hash is stored.
fn new_link_secret() -> String {
    let mut secret = [0u8; 24];
    rand::fill(&mut secret);
    hex::encode(secret)
}

/// The pending invitation behind a link's secret; an expired one is not found.
pub fn find_invitation(conn: &Connection, raw_token: &str) -> Result<Option<PendingInvitation>> {
    crate::db::optional(conn.query_row(
        "SELECT i.id, i.website_id, w.domain, i.email, i.role FROM invitations i JOIN websites w ON w.id = i.website_id
         WHERE i.token_hash = ?1 AND (i.expires_at IS NULL OR i.expires_at > ?2)",
        params![&hash_secret(raw_token)[..], db::now()],
        |r| {
            Ok(PendingInvitation {
                id: r.get(0)?,
                website_id: r.get(1)?,
                domain: r.get(2)?,
                email: r.get(3)?,
                role: r.get(4)?,
            })
        },
    ))
}

/// Makes the user a member with the invited role (an existing member keeps theirs) and uses up the
/// link, inside the caller's transaction.
pub fn accept_invitation(tx: &Connection, id: &ObjectId, user: &ObjectId, actor: &Actor) -> Result<()> {
    let (website, role): (ObjectId, Role) =
        tx.query_row("SELECT website_id, role FROM invitations WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    tx.execute(
        "INSERT OR IGNORE INTO memberships (website_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4)",
        params![website, user, role, db::now()],
    )?;
    tx.execute("DELETE FROM invitations WHERE id = ?1", [id])?;
    audit::record(tx, actor, Some(&website), "team.join", &format!("{user} as {role}"))?;
    Ok(())
}

pub fn list(conn: &Connection, website: &ObjectId) -> Result<Vec<TeamMember>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.name, u.email, m.role, m.joined_at FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.website_id = ?1 ORDER BY m.role = 'owner' DESC, m.joined_at, u.email",
    )?;
    let rows = stmt.query_map([website], |r| {
        Ok(TeamMember {
            user_id: r.get(0)?,
            name: r.get(1)?,
            email: r.get(2)?,
            image: None,
            role: r.get(3)?,
            joined_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn is_member_by_email(conn: &Connection, website: &ObjectId, email: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.website_id = ?1 AND u.email = ?2",
        )?
        .exists(params![website, email])?)
}

/// Records an invitation; the invited person joins when they accept it.
pub fn invite(
    conn: &mut Connection,
    website: &ObjectId,
    inviter: &ObjectId,
    email: &str,
    role: Role,
    base_url: &str,
    actor: &Actor,
) -> Result<Invitation> {
    if role == Role::Owner {
        return Err(Error::BadRequest("role must be viewer or member".into()));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let inviter_email: String = tx.query_row("SELECT email FROM users WHERE id = ?1", [inviter], |r| r.get(0))?;
    if inviter_email.eq_ignore_ascii_case(email) {
        return Err(Error::BadRequest("You cannot invite yourself".into()));
    }
    if is_member_by_email(&tx, website, email)? {
        return Err(Error::Conflict(format!("{email} is already a member of this website")));
    }
    let now = db::now();
    // An expired invitation to the same address gives way to the new one.
    tx.execute(
        "DELETE FROM invitations WHERE website_id = ?1 AND email = ?2 AND expires_at <= ?3",
        params![website, email, now],
    )?;
    let id = ObjectId::generate();
    let token = new_link_secret();
    tx.execute(
        "INSERT INTO invitations (id, website_id, email, role, invited_by, created_at, token_hash, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![id, website, email, role, inviter, now, &hash_secret(&token)[..], expiry_from_now()],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::Conflict(format!("{email} already has a pending invitation to this website"))
        } else {
            e.into()
        }
    })?;
    audit::record(&tx, actor, Some(website), "team.invite", &format!("{email} as {role}"))?;
    tx.commit()?;
    Ok(Invitation {
        message: "Invitation created. Send the invite link to the user.",
        invitation_id: id,
        email: email.to_owned(),
        role,
        invite_url: format!("{base_url}/invite/{token}"),
    })
}

/// The website's invitations not yet accepted, newest first, expired ones included (marked).
pub fn list_invitations(conn: &Connection, website: &ObjectId) -> Result<Vec<SentInvitation>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.id, i.email, i.role, u.email, i.created_at, coalesce(i.expires_at, ''),
                i.expires_at IS NOT NULL AND i.expires_at <= ?2
         FROM invitations i LEFT JOIN users u ON u.id = i.invited_by
         WHERE i.website_id = ?1 ORDER BY i.created_at DESC, i.email",
    )?;
    let rows = stmt.query_map(params![website, db::now()], |r| {
        Ok(SentInvitation {
            id: r.get(0)?,
            email: r.get(1)?,
            role: r.get(2)?,
            invited_by: r.get(3)?,
            sent_at: r.get(4)?,
            expires_at: r.get(5)?,
            expired: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn invitation_not_found() -> Error {
    Error::NotFound("That invitation is not pending on this website (accepted or withdrawn already)".into())
}

/// Withdraws an invitation: its link stops working. Answers the invited address.
pub fn revoke_invitation(conn: &mut Connection, website: &ObjectId, id: &ObjectId, actor: &Actor) -> Result<String> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let email: String = db::optional(tx.query_row(
        "DELETE FROM invitations WHERE id = ?1 AND website_id = ?2 RETURNING email",
        params![id, website],
        |r| r.get(0),
    ))?
    .ok_or_else(invitation_not_found)?;
    audit::record(&tx, actor, Some(website), "team.invite_revoke", &email)?;
    tx.commit()?;
    Ok(email)
}

/// Sends an invitation again: a new link (the old one stops working) valid for a new lifetime.
pub fn renew_invitation(
    conn: &mut Connection,
    website: &ObjectId,
    id: &ObjectId,
    base_url: &str,
    actor: &Actor,
) -> Result<Invitation> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let token = new_link_secret();
    let (email, role): (String, Role) = db::optional(tx.query_row(
        "UPDATE invitations SET token_hash = ?1, created_at = ?2, expires_at = ?3 WHERE id = ?4 AND website_id = ?5
         RETURNING email, role",
        params![&hash_secret(&token)[..], db::now(), expiry_from_now(), id, website],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))?
    .ok_or_else(invitation_not_found)?;
    audit::record(&tx, actor, Some(website), "team.invite_renew", &email)?;
    tx.commit()?;
    Ok(Invitation {
        message: "Invitation sent again with a new link. Send the invite link to the user.",
        invitation_id: id.clone(),
        email,
        role,
        invite_url: format!("{base_url}/invite/{token}"),
    })
}

/// Adds a user directly (the admin command); an existing member is a conflict.
pub fn add_member(conn: &mut Connection, website: &ObjectId, user: &ObjectId, role: Role, actor: &Actor) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO memberships (website_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4)",
        params![website, user, role, db::now()],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::Conflict("That user is already a member of this website".into())
        } else {
            e.into()
        }
    })?;
    tx.execute(
        "DELETE FROM invitations WHERE website_id = ?1 AND email = (SELECT email FROM users WHERE id = ?2)",
        params![website, user],
    )?;
    audit::record(&tx, actor, Some(website), "team.add", &format!("{user} as {role}"))?;
    tx.commit()?;
    Ok(())
}

pub fn remove(conn: &mut Connection, website: &ObjectId, by: &ObjectId, user: &ObjectId, actor: &Actor) -> Result<()> {
    if by == user {
        return Err(Error::BadRequest("You cannot remove yourself from a website you own".into()));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let removed = tx.execute(
        "DELETE FROM memberships WHERE website_id = ?1 AND user_id = ?2 AND role <> 'owner'",
        params![website, user],
    )?;
    if removed == 0 {
        return Err(Error::NotFound("That user is not a member of this website".into()));
    }
    audit::record(&tx, actor, Some(website), "team.remove", user.as_str())?;
    tx.commit()?;
    Ok(())
}
