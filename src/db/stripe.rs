//! Stripe connections: the encrypted restricted key, the encrypted webhook signing secret, and what is shown
//! about them.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::crypto::{Sealed, StripeKeyBox};
use crate::db::{self, audit, optional};
use crate::domain::integrations::{OptionalPermissions, StripeStatus, SyncStatus, WebhookStatus};
use crate::domain::{Actor, ObjectId};
use crate::error::{Error, Result};

/// What is stored after a successful verification.
pub struct NewConnection {
    pub sealed: Sealed,
    pub livemode: bool,
    pub display_key: String,
    pub currency: String,
}

/// What verification learned about the key's account, beyond the connection itself.
#[derive(Debug, Default)]
pub struct KeyAccount {
    pub optional: OptionalPermissions,
    /// A charge of the key's account (its newest), to recognise the account at the next key.
    pub account_charge: Option<String>,
    /// The key reads the same account as the import's: keep its position instead of starting over.
    pub same_account: bool,
}

fn key_version(conn: &Connection) -> Result<i64> {
    let v: String = conn.query_row("SELECT value FROM settings WHERE key = 'master_key_version'", [], |r| r.get(0))?;
    v.parse().map_err(Error::internal)
}

/// `connect_account` for a key nothing more is known of: no optional permission, the import starts over.
pub fn connect(conn: &mut Connection, website: &ObjectId, new: &NewConnection, actor: &Actor) -> Result<()> {
    connect_account(conn, website, new, &KeyAccount::default(), None, actor)
}

/// Stores the connection (replacing any earlier key) and sets the website's currency, in one transaction, with the
/// webhook signing secret sent with the key (`None`: any stored one stays). The import continues where it was for
/// the same account, and starts over otherwise.
pub fn connect_account(
    conn: &mut Connection,
    website: &ObjectId,
    new: &NewConnection,
    account: &KeyAccount,
    webhook_secret: Option<&Sealed>,
    actor: &Actor,
) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = key_version(&tx)?;
    let replaced = tx.execute("DELETE FROM stripe_connections WHERE website_id = ?1", [website])? > 0;
    tx.execute(
        "INSERT INTO stripe_connections
             (website_id, ciphertext, nonce, key_version, livemode, display_key, currency, connected_by, connected_at,
              subscriptions_read, disputes_read)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            website,
            new.sealed.ciphertext,
            new.sealed.nonce,
            version,
            new.livemode,
            new.display_key,
            new.currency,
            actor.user_id,
            db::now(),
            account.optional.subscriptions,
            account.optional.disputes,
        ],
    )?;
    tx.execute("UPDATE websites SET currency = ?1 WHERE id = ?2", params![new.currency, website])?;
    if let Some(secret) = webhook_secret {
        store_webhook_secret(&tx, website, secret, version, actor)?;
    }
    if account.same_account {
        db::import::resume(&tx, website, account.account_charge.as_deref())?;
    } else {
        db::import::reset(&tx, website, account.account_charge.as_deref())?;
    }
    let action = if replaced { "stripe.reconnect" } else { "stripe.connect" };
    let mode = if new.livemode { "live" } else { "test" };
    let import = if account.same_account { "same account, import continued" } else { "import started" };
    audit::record(&tx, actor, Some(website), action, &format!("{mode}, {}, {import}", new.currency))?;
    tx.commit()?;
    Ok(())
}

/// The optional permissions of the connection read with `nonce`, as a sync found them (if it is still the
/// website's).
pub fn set_optional_permissions(
    conn: &Connection,
    website: &ObjectId,
    nonce: &[u8],
    optional: OptionalPermissions,
) -> Result<()> {
    conn.execute(
        "UPDATE stripe_connections SET subscriptions_read = ?3, disputes_read = ?4 WHERE website_id = ?1 AND nonce = ?2",
        params![website, nonce, optional.subscriptions, optional.disputes],
    )?;
    Ok(())
}

/// The charge that identifies the account the website's import reads (see migration 0016), and whether an import
/// has begun at all.
pub fn import_account(conn: &Connection, website: &ObjectId) -> Result<(Option<String>, bool)> {
    let anchor: Option<Option<String>> =
        optional(
            conn.query_row("SELECT account_charge FROM stripe_sync WHERE website_id = ?1", [website], |r| r.get(0)),
        )?;
    let streams: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM stripe_sync_streams WHERE website_id = ?1)", [website], |r| {
            r.get(0)
        })?;
    let anchor = anchor.flatten();
    let begun = anchor.is_some() || streams;
    Ok((anchor, begun))
}

/// Deletes the ciphertext. `Ok(false)` when nothing was connected.
pub fn disconnect(conn: &mut Connection, website: &ObjectId, actor: &Actor) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let removed = tx.execute("DELETE FROM stripe_connections WHERE website_id = ?1", [website])?;
    if removed > 0 {
        // Without a key a webhook could read nothing: its secret goes with the key.
        tx.execute("DELETE FROM stripe_webhook_secrets WHERE website_id = ?1", [website])?;
        tx.execute("UPDATE stripe_sync SET state = 'idle', stage = NULL WHERE website_id = ?1", [website])?;
        audit::record(&tx, actor, Some(website), "stripe.disconnect", "")?;
    }
    tx.commit()?;
    Ok(removed > 0)
}

/// The website's Stripe status and its currency, in one read.
pub fn status(conn: &Connection, website: &ObjectId) -> Result<(StripeStatus, String)> {
    let mut stmt = conn.prepare_cached(
        "SELECT w.currency, s.livemode, s.display_key, s.currency, s.connected_at, u.email,
                s.subscriptions_read, s.disputes_read
         FROM websites w
         LEFT JOIN stripe_connections s ON s.website_id = w.id
         LEFT JOIN users u ON u.id = s.connected_by
         WHERE w.id = ?1",
    )?;
    let row = optional(stmt.query_row([website], |r| {
        let livemode: Option<bool> = r.get(1)?;
        let status = StripeStatus {
            connected: livemode.is_some(),
            livemode,
            display_key: r.get(2)?,
            currency: r.get(3)?,
            connected_at: r.get(4)?,
            connected_by: r.get(5)?,
            optional_permissions: OptionalPermissions {
                subscriptions: r.get::<_, Option<bool>>(6)?.unwrap_or(false),
                disputes: r.get::<_, Option<bool>>(7)?.unwrap_or(false),
            },
            sync: SyncStatus::default(),
            webhook: WebhookStatus::default(),
            disputes_unavailable: None,
            reconciliation: None,
        };
        Ok((status, r.get(0)?))
    }))?;
    let (mut status, currency) = row.ok_or_else(|| Error::NotFound("Website not found".into()))?;
    status.sync = db::import::status(conn, website)?;
    status.webhook = webhook_status(conn, website)?;
    status.disputes_unavailable = db::disputes::refused(conn, website)?;
    status.reconciliation = db::reconcile::status(conn, website)?;
    Ok((status, currency))
}

/// How many secrets are sealed under the master key (Stripe keys and webhook signing secrets).
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT (SELECT COUNT(*) FROM stripe_connections) + (SELECT COUNT(*) FROM stripe_webhook_secrets)",
        [],
        |r| r.get(0),
    )?)
}

/// Which of a website's sealed secrets a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecretKind {
    StripeKey,
    WebhookSecret,
}

impl SecretKind {
    fn table(self) -> &'static str {
        match self {
            Self::StripeKey => "stripe_connections",
            Self::WebhookSecret => "stripe_webhook_secrets",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::StripeKey => "Stripe key",
            Self::WebhookSecret => "Stripe webhook signing secret",
        }
    }

    fn open(self, keys: &StripeKeyBox, website: &ObjectId, sealed: &Sealed) -> bool {
        match self {
            Self::StripeKey => keys.open(website, sealed).is_ok(),
            Self::WebhookSecret => keys.webhook_secrets().open(website, sealed).is_ok(),
        }
    }

    fn reseal(self, old: &StripeKeyBox, new: &StripeKeyBox, website: &ObjectId, sealed: &Sealed) -> Option<Sealed> {
        match self {
            Self::StripeKey => old.reseal(new, website, sealed).ok(),
            Self::WebhookSecret => old.webhook_secrets().reseal(&new.webhook_secrets(), website, sealed).ok(),
        }
    }
}

/// Every sealed secret: the Stripe keys, then the webhook signing secrets.
fn all_sealed(conn: &Connection) -> Result<Vec<(SecretKind, ObjectId, Sealed)>> {
    let mut all = Vec::new();
    for kind in [SecretKind::StripeKey, SecretKind::WebhookSecret] {
        let mut stmt =
            conn.prepare(&format!("SELECT website_id, nonce, ciphertext FROM {} ORDER BY website_id", kind.table()))?;
        let rows = stmt.query_map([], |r| Ok((kind, r.get(0)?, Sealed { nonce: r.get(1)?, ciphertext: r.get(2)? })))?;
        all.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
    }
    Ok(all)
}

/// Checks that `key` opens every stored secret; names the first website it cannot open.
pub fn verify_master_key(conn: &Connection, keys: &StripeKeyBox) -> Result<usize> {
    let sealed = all_sealed(conn)?;
    if let Some((kind, website, _)) = sealed.iter().find(|(kind, website, s)| !kind.open(keys, website, s)) {
        return Err(Error::Internal(format!(
            "the configured master key cannot decrypt the {} stored for website {website}; \
             configure the master key these secrets were written with",
            kind.name()
        )));
    }
    Ok(sealed.len())
}

/// How many sealed secrets are stored, and the websites with one `keys` cannot open (every one with a secret
/// without a key), each once.
pub fn unreadable_secrets(conn: &Connection, keys: Option<&StripeKeyBox>) -> Result<(usize, Vec<ObjectId>)> {
    let sealed = all_sealed(conn)?;
    let mut unreadable: Vec<ObjectId> = sealed
        .iter()
        .filter(|(kind, website, s)| keys.is_none_or(|k| !kind.open(k, website, s)))
        .map(|(_, w, _)| w.clone())
        .collect();
    unreadable.sort();
    unreadable.dedup();
    Ok((sealed.len(), unreadable))
}

/// Re-encrypts every stored secret under `new`, in one transaction; returns how many and the new version.
pub fn rotate_master_key(conn: &mut Connection, old: &StripeKeyBox, new: &StripeKeyBox) -> Result<(usize, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let sealed = all_sealed(&tx)?;
    let version = key_version(&tx)? + 1;
    for (kind, website, s) in &sealed {
        let resealed = kind.reseal(old, new, website, s).ok_or_else(|| {
            Error::Internal(format!("the current master key cannot decrypt the {} of website {website}", kind.name()))
        })?;
        tx.execute(
            &format!("UPDATE {} SET ciphertext = ?1, nonce = ?2, key_version = ?3 WHERE website_id = ?4", kind.table()),
            params![resealed.ciphertext, resealed.nonce, version, website],
        )?;
    }
    tx.execute("UPDATE settings SET value = ?1 WHERE key = 'master_key_version'", [version.to_string()])?;
    audit::record(&tx, &Actor::cli(), None, "master_key.rotate", &format!("{} secrets", sealed.len()))?;
    tx.commit()?;
    Ok((sealed.len(), version))
}

/// Stores (or replaces) the website's webhook signing secret inside the caller's transaction.
fn store_webhook_secret(
    tx: &Connection,
    website: &ObjectId,
    sealed: &Sealed,
    version: i64,
    actor: &Actor,
) -> Result<()> {
    let replaced = tx.execute(
        "UPDATE stripe_webhook_secrets SET ciphertext = ?2, nonce = ?3, key_version = ?4, set_by = ?5, set_at = ?6
         WHERE website_id = ?1",
        params![website, sealed.ciphertext, sealed.nonce, version, actor.user_id, db::now()],
    )? > 0;
    if !replaced {
        tx.execute(
            "INSERT INTO stripe_webhook_secrets (website_id, ciphertext, nonce, key_version, set_by, set_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![website, sealed.ciphertext, sealed.nonce, version, actor.user_id, db::now()],
        )?;
    }
    let action = if replaced { "stripe.webhook_secret.replace" } else { "stripe.webhook_secret.set" };
    audit::record(tx, actor, Some(website), action, "")
}

/// Sets the webhook signing secret of a connected website. `Ok(false)`, with nothing stored, when Stripe is not
/// connected.
pub fn set_webhook_secret(conn: &mut Connection, website: &ObjectId, sealed: &Sealed, actor: &Actor) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let connected = tx.prepare_cached("SELECT 1 FROM stripe_connections WHERE website_id = ?1")?.exists([website])?;
    if connected {
        let version = key_version(&tx)?;
        store_webhook_secret(&tx, website, sealed, version, actor)?;
    }
    tx.commit()?;
    Ok(connected)
}

/// Deletes the webhook signing secret (`secure_delete` overwrites it). `Ok(false)` when none was set.
pub fn remove_webhook_secret(conn: &mut Connection, website: &ObjectId, actor: &Actor) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let removed = tx.execute("DELETE FROM stripe_webhook_secrets WHERE website_id = ?1", [website])? > 0;
    if removed {
        audit::record(&tx, actor, Some(website), "stripe.webhook_secret.remove", "")?;
    }
    tx.commit()?;
    Ok(removed)
}

/// The website's sealed webhook signing secret, if one is set.
pub fn webhook_secret(conn: &Connection, website: &ObjectId) -> Result<Option<Sealed>> {
    optional(
        conn.prepare_cached("SELECT nonce, ciphertext FROM stripe_webhook_secrets WHERE website_id = ?1")?
            .query_row([website], |r| Ok(Sealed { nonce: r.get(0)?, ciphertext: r.get(1)? })),
    )
}

/// Whether a secret is set, when, and when the last event came (the URL is the caller's to fill in).
fn webhook_status(conn: &Connection, website: &ObjectId) -> Result<WebhookStatus> {
    let row = optional(
        conn.prepare_cached("SELECT set_at, last_event_at FROM stripe_webhook_secrets WHERE website_id = ?1")?
            .query_row([website], |r| Ok((r.get(0)?, r.get(1)?))),
    )?;
    Ok(match row {
        Some((set_at, last_event_at)) => {
            WebhookStatus { configured: true, url: String::new(), set_at: Some(set_at), last_event_at }
        }
        None => WebhookStatus::default(),
    })
}
