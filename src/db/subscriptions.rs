//! Subscriptions (migration 0017): each as the import last read it, the snapshots of the states it was seen in
//! (one per month in which an import saw its status or plan change), whether the website's key may list them, and
//! what MRR is computed from: the subscriptions with their snapshots, and the settlement rates of payments in other
//! currencies. Plain rows and domain values in and out.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::db::optional;
use crate::domain::ObjectId;
use crate::domain::mrr::{NewSubscription, Observation, Plan, Rate, Status, Subscription};
use crate::error::{Error, Result};

fn plan_text(plan: &Plan) -> Result<String> {
    serde_json::to_string(plan).map_err(Error::internal)
}

/// `YYYY-MM` of a Unix time (UTC): the month a snapshot is filed under.
fn month_of(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map_or_else(|_| "1970-01".into(), |d| format!("{:04}-{:02}", d.year(), u8::from(d.month())))
}

/// Stores a page of subscriptions read at `observed_at`, each with a snapshot when it is new or its status or plan
/// changed (an unchanged status keeps the date it was first seen lapsing from). Answers how many changed in any
/// way; when some did, the website's subscription version is bumped. Runs inside the writer's transaction.
pub fn upsert_page(tx: &Connection, website: &ObjectId, subs: &[NewSubscription], observed_at: i64) -> Result<usize> {
    let mut read =
        tx.prepare_cached("SELECT status, status_since, plan FROM subscriptions WHERE website_id = ?1 AND id = ?2")?;
    // Written only when something differs, so that the number of changes tells whether anything did.
    let mut write = tx.prepare_cached(
        "INSERT INTO subscriptions (website_id, id, customer_id, currency, status, status_since, created, start_date,
             trial_start, trial_end, cancel_at, canceled_at, ended_at, cancel_at_period_end, current_period_start,
             current_period_end, plan, first_seen_at, first_status, first_status_since, first_plan, seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?5, ?6, ?17, ?18)
         ON CONFLICT (website_id, id) DO UPDATE SET customer_id = excluded.customer_id, currency = excluded.currency,
             status = excluded.status, status_since = excluded.status_since, created = excluded.created,
             start_date = excluded.start_date, trial_start = excluded.trial_start, trial_end = excluded.trial_end,
             cancel_at = excluded.cancel_at, canceled_at = excluded.canceled_at, ended_at = excluded.ended_at,
             cancel_at_period_end = excluded.cancel_at_period_end,
             current_period_start = excluded.current_period_start, current_period_end = excluded.current_period_end,
             plan = excluded.plan, seen_at = excluded.seen_at
         WHERE (customer_id, currency, status, status_since, created, start_date, trial_start, trial_end, cancel_at,
                canceled_at, ended_at, cancel_at_period_end, current_period_start, current_period_end, plan)
            IS NOT (excluded.customer_id, excluded.currency, excluded.status, excluded.status_since, excluded.created,
                excluded.start_date, excluded.trial_start, excluded.trial_end, excluded.cancel_at, excluded.canceled_at,
                excluded.ended_at, excluded.cancel_at_period_end, excluded.current_period_start,
                excluded.current_period_end, excluded.plan)",
    )?;
    let mut seen = tx.prepare_cached("UPDATE subscriptions SET seen_at = ?3 WHERE website_id = ?1 AND id = ?2")?;
    let mut snapshot = tx.prepare_cached(
        "INSERT OR REPLACE INTO subscription_snapshots (website_id, subscription_id, month, observed_at, status,
             status_since, plan) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut changed = 0;
    for sub in subs {
        let plan = plan_text(&sub.plan)?;
        let status = sub.status.name();
        let before: Option<(String, Option<i64>, String)> =
            read.query_row(params![website, sub.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
        let new_state = before.as_ref().is_none_or(|(s, _, p)| s != status || *p != plan);
        // A lapsed status seen again keeps the date it was first seen lapsing from.
        let since = match &before {
            Some((s, since, _)) if s == status => *since,
            _ => sub.status_since(),
        };
        let written = write.execute(params![
            website,
            sub.id,
            sub.customer,
            sub.currency,
            status,
            since,
            sub.created,
            sub.start_date,
            sub.trial_start,
            sub.trial_end,
            sub.cancel_at,
            sub.canceled_at,
            sub.ended_at,
            sub.cancel_at_period_end,
            sub.current_period_start,
            sub.current_period_end,
            plan,
            observed_at
        ])?;
        if written == 0 {
            seen.execute(params![website, sub.id, observed_at])?;
        }
        changed += written;
        if new_state {
            snapshot.execute(params![website, sub.id, month_of(observed_at), observed_at, status, since, plan])?;
        }
    }
    if changed > 0 {
        bump_version(tx, website)?;
    }
    Ok(changed)
}

fn bump_version(conn: &Connection, website: &ObjectId) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO subscription_sync (website_id, version) VALUES (?1, 1)
         ON CONFLICT (website_id) DO UPDATE SET version = version + 1",
    )?
    .execute([website])?;
    Ok(())
}

/// At the end of a whole pass over the list that began at `pass_started`: a subscription still running that the
/// pass did not see is gone from Stripe (deleted with its customer), and is recorded as canceled then, with a
/// snapshot. Answers how many.
pub fn mark_gone(tx: &Connection, website: &ObjectId, pass_started: i64) -> Result<usize> {
    let gone: Vec<(String, String)> = tx
        .prepare_cached(
            "SELECT id, plan FROM subscriptions
             WHERE website_id = ?1 AND seen_at < ?2 AND status NOT IN ('canceled', 'incomplete_expired')",
        )?
        .query_map(params![website, pass_started], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut cancel = tx.prepare_cached(
        "UPDATE subscriptions SET status = 'canceled', status_since = ?3, canceled_at = COALESCE(canceled_at, ?3),
             ended_at = COALESCE(ended_at, ?3)
         WHERE website_id = ?1 AND id = ?2",
    )?;
    let mut snapshot = tx.prepare_cached(
        "INSERT OR REPLACE INTO subscription_snapshots (website_id, subscription_id, month, observed_at, status,
             status_since, plan) VALUES (?1, ?2, ?3, ?4, 'canceled', ?4, ?5)",
    )?;
    for (id, plan) in &gone {
        cancel.execute(params![website, id, pass_started])?;
        snapshot.execute(params![website, id, month_of(pass_started), pass_started, plan])?;
    }
    if !gone.is_empty() {
        bump_version(tx, website)?;
    }
    Ok(gone.len())
}

/// A key of another Stripe account: the subscriptions read from the previous one are not this account's, and MRR
/// is computed from the new account's alone (payments, which happened, stay).
pub fn forget(conn: &Connection, website: &ObjectId) -> Result<()> {
    conn.execute("DELETE FROM subscription_snapshots WHERE website_id = ?1", [website])?;
    let deleted = conn.execute("DELETE FROM subscriptions WHERE website_id = ?1", [website])?;
    if deleted > 0 {
        bump_version(conn, website)?;
    }
    Ok(())
}

/// Whether the key may list subscriptions, and the subscription version (see the migration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// `None` until an import has asked Stripe.
    pub available: Option<bool>,
    /// Stripe's reason when it refused.
    pub reason: Option<String>,
    pub checked_at: Option<i64>,
    pub version: i64,
}

/// Records what Stripe answered when the import asked for the subscription list.
pub fn set_available(
    conn: &Connection,
    website: &ObjectId,
    available: bool,
    reason: Option<&str>,
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO subscription_sync (website_id, available, reason, checked_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (website_id) DO UPDATE SET available = excluded.available, reason = excluded.reason,
             checked_at = excluded.checked_at,
             version = version + (COALESCE(available, -1) IS NOT excluded.available)",
    )?
    .execute(params![website, available, reason, at])?;
    Ok(())
}

pub fn access(conn: &Connection, website: &ObjectId) -> Result<Access> {
    let found = optional(
        conn.prepare_cached(
            "SELECT available, reason, checked_at, version FROM subscription_sync WHERE website_id = ?1",
        )?
        .query_row([website], |r| {
            Ok(Access { available: r.get(0)?, reason: r.get(1)?, checked_at: r.get(2)?, version: r.get(3)? })
        }),
    )?;
    Ok(found.unwrap_or_default())
}

fn observation(id: &str, at: i64, status: &str, since: Option<i64>, plan: &str) -> Option<Observation> {
    match serde_json::from_str::<Plan>(plan) {
        Ok(plan) => Some(Observation { at, status: Status::parse(status), since, plan }),
        Err(e) => {
            tracing::error!(subscription = id, error = %e, "a stored subscription plan could not be read; skipped");
            None
        }
    }
}

/// Every subscription of the website with the state it was first seen in and its snapshots, oldest first. A snapshot whose plan cannot be read
/// (written by a later revlink?) is skipped and logged; a subscription left without any is skipped too.
pub fn for_mrr(conn: &Connection, website: &ObjectId) -> Result<Vec<Subscription>> {
    let mut subs: Vec<Subscription> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT id, customer_id, currency, created, trial_start, trial_end, ended_at, first_seen_at, first_status,
                first_status_since, first_plan
         FROM subscriptions WHERE website_id = ?1",
    )?;
    let mut rows = stmt.query([website])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let first = observation(&id, r.get(7)?, &r.get::<_, String>(8)?, r.get(9)?, &r.get::<_, String>(10)?);
        index.insert(id.clone(), subs.len());
        subs.push(Subscription {
            id,
            customer: r.get(1)?,
            currency: r.get(2)?,
            created: r.get(3)?,
            trial_start: r.get(4)?,
            trial_end: r.get(5)?,
            ended_at: r.get(6)?,
            observations: first.into_iter().collect(),
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT subscription_id, observed_at, status, status_since, plan FROM subscription_snapshots
         WHERE website_id = ?1 ORDER BY subscription_id, observed_at",
    )?;
    let mut rows = stmt.query([website])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let Some(&i) = index.get(&id) else { continue };
        let seen = observation(&id, r.get(1)?, &r.get::<_, String>(2)?, r.get(3)?, &r.get::<_, String>(4)?);
        subs[i].observations.extend(seen);
    }
    for sub in &mut subs {
        sub.observations.sort_by_key(|o| o.at);
    }
    subs.retain(|s| !s.observations.is_empty());
    Ok(subs)
}

/// The settlement rate of each (customer, currency) in another currency than `currency`: the latest payment of the
/// customer in that currency that Stripe settled in `currency`.
pub fn settlement_rates(
    conn: &Connection,
    website: &ObjectId,
    currency: &str,
) -> Result<HashMap<(String, String), Rate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT customer_id, currency, amount, settled_amount FROM (
             SELECT customer_id, currency, amount, settled_amount,
                    ROW_NUMBER() OVER (PARTITION BY customer_id, currency ORDER BY paid_at DESC, id DESC) AS n
             FROM payments
             WHERE website_id = ?1 AND settled_currency = ?2 AND currency <> ?2 AND customer_id IS NOT NULL
                   AND amount > 0 AND settled_amount > 0
         ) WHERE n = 1",
    )?;
    let rows = stmt.query_map(params![website, currency], |r| {
        Ok(((r.get(0)?, r.get(1)?), Rate { amount: r.get(2)?, settled: r.get(3)? }))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many subscriptions the website has stored, and how many of them are not canceled.
pub fn counts(conn: &Connection, website: &ObjectId) -> Result<(u64, u64)> {
    let (all, live): (i64, i64) = conn
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(status NOT IN ('canceled', 'incomplete_expired')), 0) FROM subscriptions
             WHERE website_id = ?1",
        )?
        .query_row([website], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok((all.unsigned_abs(), live.unsigned_abs()))
}

/// Each customer's first-touch source: the normalised referrer of the visitor of its earliest payment attributed to
/// one (`unknown` for a visitor revlink never saw). Customers without an attributed payment are not listed.
pub fn customer_sources(conn: &Connection, website: &ObjectId, unknown: &str) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT customer_id, source FROM (
             SELECT p.customer_id, COALESCE(v.referrer, ?2) AS source,
                    ROW_NUMBER() OVER (PARTITION BY p.customer_id ORDER BY p.paid_at, p.id) AS n
             FROM payments p LEFT JOIN visitors v ON v.website_id = p.website_id AND v.visitor_id = p.visitor_id
             WHERE p.website_id = ?1 AND p.customer_id IS NOT NULL AND p.visitor_id IS NOT NULL
         ) WHERE n = 1",
    )?;
    let rows = stmt.query_map(params![website, unknown], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
