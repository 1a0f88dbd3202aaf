//! The reports of the Website analytics API (contract §3, §5), read from one range of sessions (migration 0008)
//! and the payments of the same range.
//!
//! A report is asked for over buckets (one for an overview or a breakdown, one per hour/day/week/month for a
//! series), each `[start, end)` in Unix milliseconds; the buckets drive the query (`json_each` outer loop, one
//! range scan of the sessions' or payments' key per bucket). Visitors are counted at their first session in
//! the bucket (`prev_started_at` before the bucket's start), so no DISTINCT over the range is needed.
//!
//! Payments count in the website currency by the rule of the revenue rollups (`rollup_changes`, migration 0006):
//! the settled amount when the payment settled in that currency, else its own amount when it is in that
//! currency; refunds likewise (pro rata of the settlement). Each payment joins its visitor by
//! `datafast_visitor_id`, else by an identity with the customer's email (the earliest visitor who gave it).

use std::fmt::Write as _;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::domain::ObjectId;
use crate::domain::analytics::{Dimension, Filter, PaymentTotals, Period, VisitTotals, stamp};
use crate::error::Result;

/// One group of one bucket: the bucket's index, the group's values (one per grouped dimension), its sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<T> {
    pub bucket: usize,
    pub key: Vec<Option<String>>,
    /// Payments whose visitor revlink never saw (their key is all `None`).
    pub unknown_visitor: bool,
    pub totals: T,
}

/// What a report reads: the website, its currency, the filters, and the period `page`/`goal` filters look at.
pub struct Scope<'a> {
    pub website: &'a ObjectId,
    pub currency: &'a str,
    pub filters: &'a [Filter],
    pub period: Period,
}

/// The SQL of `scope`'s filters on the acquisition columns of `alias`, each `AND …`, binding into `args`.
fn filter_sql(scope: &Scope<'_>, alias: &str, args: &mut Vec<Value>) -> String {
    let mut sql = String::new();
    for filter in scope.filters {
        let marks = vec!["?"; filter.values.len()].join(", ");
        let not = if filter.negated { "NOT " } else { "" };
        match filter.dimension.column() {
            Some(column) => {
                // `is_not` keeps visitors with no value: coalesce so NULL is compared, not propagated.
                let _ = write!(sql, " AND coalesce({alias}.{column}, '') {not}IN ({marks})");
            }
            None => {
                let (kind, field) =
                    if filter.dimension == Dimension::Goal { ("custom", "name") } else { ("pageview", "path") };
                let _ = write!(
                    sql,
                    " AND {alias}.visitor_id {not}IN (SELECT visitor_id FROM events WHERE website_id = ? AND type = \
                     '{kind}' AND {field} IN ({marks}) AND at >= ? AND at < ?)"
                );
                args.push(Value::Text(scope.website.to_string()));
            }
        }
        args.extend(filter.values.iter().map(|v| Value::Text(v.clone())));
        if filter.dimension.column().is_none() {
            args.push(Value::Integer(scope.period.start_ms));
            args.push(Value::Integer(scope.period.end_ms));
        }
    }
    sql
}

fn bucket_json(buckets: &[(i64, i64)]) -> String {
    serde_json::to_string(buckets).unwrap_or_else(|_| "[]".into())
}

fn columns(alias: &str, group: &[Dimension]) -> String {
    group.iter().filter_map(|d| d.column()).fold(String::new(), |mut sql, c| {
        let _ = write!(sql, ", {alias}.{c}");
        sql
    })
}

fn group_by(group: &[Dimension]) -> String {
    (0..group.len()).fold(String::new(), |mut sql, i| {
        let _ = write!(sql, ", {}", i + 2);
        sql
    })
}

fn key(row: &rusqlite::Row<'_>, len: usize) -> rusqlite::Result<Vec<Option<String>>> {
    (0..len).map(|i| row.get(i + 1)).collect()
}

fn count(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
}

/// Sessions and visitors of each bucket, grouped by `group` (acquisition dimensions only).
pub fn visits(
    conn: &Connection,
    scope: &Scope<'_>,
    buckets: &[(i64, i64)],
    group: &[Dimension],
) -> Result<Vec<Group<VisitTotals>>> {
    let mut args = vec![Value::Text(bucket_json(buckets)), Value::Text(scope.website.to_string())];
    let filters = filter_sql(scope, "s", &mut args);
    let sql = format!(
        "SELECT b.key{cols}, COUNT(*), SUM(s.prev_started_at IS NULL OR s.prev_started_at < b.value->>0),
                SUM(s.pageviews <= 1), SUM(s.last_seen - s.started_at)
         FROM json_each(?1) AS b CROSS JOIN visitor_sessions AS s
         WHERE s.website_id = ?2 AND s.started_at >= b.value->>0 AND s.started_at < b.value->>1{filters}
         GROUP BY 1{groups}",
        cols = columns("s", group),
        groups = group_by(group),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let n = group.len();
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(Group {
            bucket: usize::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
            key: key(r, n)?,
            unknown_visitor: false,
            totals: VisitTotals {
                sessions: count(r, n + 1)?,
                visitors: count(r, n + 2)?,
                bounces: count(r, n + 3)?,
                duration_ms: r.get(n + 4)?,
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The payments of each bucket in the website currency, grouped by their visitor's `group` values; payments of
/// visitors revlink never saw form their own group (unless a filter is set: they match none).
pub fn payments(
    conn: &Connection,
    scope: &Scope<'_>,
    buckets: &[(i64, i64)],
    group: &[Dimension],
) -> Result<Vec<Group<PaymentTotals>>> {
    let stamps: Vec<(String, String)> = buckets.iter().map(|(s, e)| (stamp(*s), stamp(*e))).collect();
    let mut args = vec![
        Value::Text(serde_json::to_string(&stamps).unwrap_or_else(|_| "[]".into())),
        Value::Text(scope.website.to_string()),
        Value::Text(scope.currency.to_owned()),
    ];
    let mut filters = filter_sql(scope, "v", &mut args);
    if !scope.filters.is_empty() {
        filters.push_str(" AND v.visitor_id IS NOT NULL");
    }
    let n = group.len();
    let sql = format!(
        "SELECT b.key{cols}, v.visitor_id IS NULL, COUNT(*),
                SUM(CASE WHEN p.renewal = 0 THEN {gross} ELSE 0 END),
                SUM(CASE WHEN p.renewal <> 0 THEN {gross} ELSE 0 END), SUM({refunds}), COUNT(DISTINCT v.visitor_id)
         FROM json_each(?1) AS b CROSS JOIN payments AS p
         LEFT JOIN visitors AS v ON v.website_id = p.website_id AND v.visitor_id = coalesce(p.visitor_id,
             (SELECT i.visitor_id FROM identities AS i
              WHERE i.website_id = p.website_id AND i.email = lower(p.customer_email) ORDER BY i.first_at LIMIT 1))
         WHERE p.website_id = ?2 AND p.paid_at >= b.value->>0 AND p.paid_at < b.value->>1
           AND (p.settled_currency = ?3 OR p.currency = ?3){filters}
         GROUP BY 1{groups}, {unknown}",
        cols = columns("v", group),
        gross = "CASE WHEN p.settled_currency = ?3 THEN p.settled_amount ELSE p.amount END",
        refunds = "CASE WHEN p.settled_currency = ?3 THEN (CASE WHEN p.amount > 0 \
                   THEN p.refunded_amount * p.settled_amount / p.amount ELSE 0 END) ELSE p.refunded_amount END",
        groups = group_by(group),
        unknown = n + 2,
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(Group {
            bucket: usize::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
            key: key(r, n)?,
            unknown_visitor: r.get(n + 1)?,
            totals: PaymentTotals {
                payments: count(r, n + 2)?,
                new: r.get(n + 3)?,
                renewal: r.get(n + 4)?,
                refunds: r.get(n + 5)?,
                paying_visitors: count(r, n + 6)?,
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Each goal completed in the period by the filtered visitors: `(goal, completions, visitors)`, most
/// completed first.
pub fn goals(conn: &Connection, scope: &Scope<'_>) -> Result<Vec<(String, u64, u64)>> {
    let mut args = vec![
        Value::Text(scope.website.to_string()),
        Value::Integer(scope.period.start_ms),
        Value::Integer(scope.period.end_ms),
    ];
    let visitors = if scope.filters.is_empty() {
        String::new()
    } else {
        args.push(Value::Text(scope.website.to_string()));
        let filters = filter_sql(scope, "v", &mut args);
        format!(" AND e.visitor_id IN (SELECT v.visitor_id FROM visitors AS v WHERE v.website_id = ?4{filters})")
    };
    let sql = format!(
        "SELECT e.name, COUNT(*), COUNT(DISTINCT e.visitor_id) FROM events AS e
         WHERE e.website_id = ?1 AND e.type = 'custom' AND e.at >= ?2 AND e.at < ?3{visitors}
         GROUP BY e.name ORDER BY 3 DESC, 2 DESC, 1"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| Ok((r.get(0)?, count(r, 1)?, count(r, 2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Visitors with an event since `since` (Unix ms); sessions older than a day are not looked at.
pub fn active_visitors(conn: &Connection, website: &ObjectId, since: i64) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT COUNT(DISTINCT visitor_id) FROM visitor_sessions
             WHERE website_id = ?1 AND started_at >= ?2 - 86400000 AND last_seen >= ?2",
        )?
        .query_row(params![website, since], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// When the website's first session or payment was (Unix ms), if it has any.
pub fn first_activity(conn: &Connection, website: &ObjectId) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT min(m) FROM (
                 SELECT min(started_at) AS m FROM visitor_sessions WHERE website_id = ?1
                 UNION ALL
                 SELECT CAST(unixepoch(min(paid_at), 'subsec') * 1000 AS INTEGER) FROM payments WHERE website_id = ?1)",
        )?
        .query_row([website], |r| r.get(0))?)
}

/// Whether the website has received any event.
pub fn has_events(conn: &Connection, website: &ObjectId) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM visitor_sessions WHERE website_id = ?1 LIMIT 1")?.exists([website])?)
}

/// One visitor as `GET visitors/{id}` shows them.
#[derive(Debug, Clone)]
pub struct VisitorRecord {
    pub acquisition: Vec<(&'static str, Option<String>)>,
    pub viewport: Option<(i64, i64)>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub visits: u64,
    pub pageviews: u64,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Pages viewed, most recent first: `(path, at)`.
    pub pages: Vec<(String, i64)>,
    /// Goals completed, most recent first: `(name, at, params JSON)`.
    pub goals: Vec<(String, i64, Option<String>)>,
    /// Payments attributed to the visitor (by id, or by an email they gave), newest first:
    /// `(payment id, amount, currency, paid_at, renewal, refunded_amount)`.
    pub payments: Vec<(String, i64, String, String, bool, i64)>,
}

const VISITOR_FIELDS: [&str; 17] = [
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "ref",
    "source",
    "via",
    "landing_path",
    "hostname",
    "country",
    "region",
    "city",
    "device",
    "browser",
    "os",
];

/// The visitor, their activity and their payments; `None` when revlink never saw them. At most `max` pages,
/// goals and payments each.
pub fn visitor(conn: &Connection, website: &ObjectId, visitor: &str, max: u32) -> Result<Option<VisitorRecord>> {
    let sql = format!(
        "SELECT {}, viewport_width, viewport_height, first_seen, last_seen,
                (SELECT COUNT(*) FROM visitor_sessions s WHERE s.website_id = v.website_id AND s.visitor_id = v.visitor_id),
                (SELECT coalesce(SUM(pageviews), 0) FROM visitor_sessions s
                 WHERE s.website_id = v.website_id AND s.visitor_id = v.visitor_id),
                i.user_id, i.email, i.name
         FROM visitors AS v LEFT JOIN identities AS i ON i.website_id = v.website_id AND i.visitor_id = v.visitor_id
         WHERE v.website_id = ?1 AND v.visitor_id = ?2",
        VISITOR_FIELDS.join(", ")
    );
    let n = VISITOR_FIELDS.len();
    let found = conn
        .prepare_cached(&sql)?
        .query_row(params![website, visitor], |r| {
            let acquisition =
                VISITOR_FIELDS.iter().enumerate().map(|(i, f)| Ok((*f, r.get(i)?))).collect::<rusqlite::Result<_>>()?;
            let viewport = match (r.get::<_, Option<i64>>(n)?, r.get::<_, Option<i64>>(n + 1)?) {
                (Some(w), Some(h)) => Some((w, h)),
                _ => None,
            };
            Ok(VisitorRecord {
                acquisition,
                viewport,
                first_seen: r.get(n + 2)?,
                last_seen: r.get(n + 3)?,
                visits: count(r, n + 4)?,
                pageviews: count(r, n + 5)?,
                user_id: r.get(n + 6)?,
                email: r.get(n + 7)?,
                name: r.get(n + 8)?,
                pages: Vec::new(),
                goals: Vec::new(),
                payments: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut record) = found else { return Ok(None) };
    let mut stmt = conn.prepare_cached(
        "SELECT type, coalesce(name, path), at, params FROM events
         WHERE website_id = ?1 AND visitor_id = ?2 AND type IN ('pageview', 'custom') ORDER BY at DESC LIMIT ?3",
    )?;
    let mut rows = stmt.query(params![website, visitor, i64::from(max) * 2])?;
    while let Some(r) = rows.next()? {
        let kind: String = r.get(0)?;
        if kind == "pageview" && record.pages.len() < max as usize {
            record.pages.push((r.get(1)?, r.get(2)?));
        } else if kind == "custom" && record.goals.len() < max as usize {
            record.goals.push((r.get(1)?, r.get(2)?, r.get(3)?));
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, amount, currency, paid_at, renewal, refunded_amount FROM payments
         WHERE website_id = ?1 AND (visitor_id = ?2 OR (visitor_id IS NULL AND ?3 IS NOT NULL AND lower(customer_email) = ?3
               AND (SELECT i.visitor_id FROM identities AS i WHERE i.website_id = ?1 AND i.email = ?3
                    ORDER BY i.first_at LIMIT 1) = ?2))
         ORDER BY paid_at DESC LIMIT ?4",
    )?;
    let payments = stmt.query_map(params![website, visitor, record.email, max], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
    })?;
    record.payments = payments.collect::<rusqlite::Result<_>>()?;
    Ok(Some(record))
}
