//! Website members, their roles, and pending invitations.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::db::{self, audit, is_unique_violation};
use crate::domain::secret_token::hash_secret;
use crate::domain::team::{Invitation, PendingInvitation, TeamMember};
use crate::domain::{Actor, ObjectId, Role};
use crate::error::{Error, Result};

pub fn find_invitation(conn: &Connection, raw_token: &str) -> Result<Option<PendingInvitation>> {
    crate::db::optional(conn.query_row(
        "SELECT i.id, i.website_id, w.domain, i.email, i.role FROM invitations i JOIN websites w ON w.id = i.website_id
         WHERE i.token_hash = ?1",
        [&hash_secret(raw_token)[..]],
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
    let id = ObjectId::generate();
    let mut secret = [0u8; 24];
    rand::fill(&mut secret);
    let token = hex::encode(secret);
    tx.execute(
        "INSERT INTO invitations (id, website_id, email, role, invited_by, created_at, token_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, website, email, role, inviter, db::now(), &hash_secret(&token)[..]],
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
