//! The reports of the Website analytics API (contract §3, §5), read from one range of sessions (migration 0008)
//! and the payments of the same range.
//!
//! A report is asked for over buckets (none for an overview or a breakdown, one per hour/day/week/month for a
//! series), each `[start, end)` in Unix milliseconds, plus its whole period; one range scan of the sessions (by
//! `started_at`) and one of the payments serve any number of reports, each row added to its groups in Rust.
//! Visitors are counted at their first session in the bucket (`prev_started_at` before the bucket's start), so
//! no DISTINCT over the range is needed.
//!
//! Payments count in the website currency by the rule of the revenue rollups (`rollup_changes`, migration 0006):
//! the settled amount when the payment settled in that currency, else its own amount when it is in that
//! currency; refunds likewise (pro rata of the settlement). Each payment joins its visitor by
//! `datafast_visitor_id`, else by an identity with the customer's email (the earliest visitor who gave it).

use std::fmt::Write as _;

use foldhash::{HashMap as FastMap, HashMapExt, HashSet as FastSet, HashSetExt};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params, params_from_iter};

use crate::domain::ObjectId;
use crate::domain::analytics::{Dimension, Filter, Packed, PaymentTotals, Period, VisitTotals};
use crate::error::{Error, Result};

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

/// One report of a read: the buckets it counts in (sorted, disjoint; its whole period comes as one more bucket,
/// `buckets.len()`) and the acquisition dimensions it groups by. Several reports share one pass over the rows (the
/// Dashboard reads its series and its five tables at once).
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub buckets: Vec<(i64, i64)>,
    pub group: Vec<Dimension>,
}

/// Where a report's grouped values are in a result row.
struct Grouped {
    /// The result column of each value, in the report's order; or of the one column that packs them all.
    columns: Vec<usize>,
    /// The one column that packs them all, if it is one; `None`: one column each.
    packed: Option<Packed>,
}

/// The acquisition columns the reports group by, each once and after a comma (`alias.column`), and where each
/// report's values are in the row (from result column `first`). A report grouped by the campaign parameters reads
/// their packed column (`Packed`) instead of eight, one grouped by hostname and landing page theirs instead of two.
fn group_columns(alias: &str, reports: &[Report], first: usize) -> (String, Vec<Grouped>) {
    let mut columns: Vec<&str> = Vec::new();
    let mut at = |column: &'static str| {
        first
            + columns.iter().position(|c| *c == column).unwrap_or_else(|| {
                columns.push(column);
                columns.len() - 1
            })
    };
    let grouped = reports
        .iter()
        .map(|report| match Packed::of(&report.group) {
            Some(packed) => Grouped { columns: vec![at(packed.column())], packed: Some(packed) },
            None => {
                Grouped { columns: report.group.iter().filter_map(|d| d.column()).map(&mut at).collect(), packed: None }
            }
        })
        .collect();
    let sql = columns.iter().fold(String::new(), |mut sql, c| {
        let _ = write!(sql, ", {alias}.{c}");
        sql
    });
    (sql, grouped)
}

pub(super) fn count(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
}

/// Groups being summed. Each bucket (and, for payments, known or unknown visitor) has its own slot, found by
/// index; within it a group is found by its values: one value by its own bytes, several by a key written into a
/// reused buffer (each value length-prefixed). So a row costs at most one hash lookup and no allocation; a
/// group's values are kept once, when it is first seen.
struct Groups<T> {
    slots: Vec<Slot>,
    found: Vec<Group<T>>,
    key: Vec<u8>,
}

#[derive(Default)]
struct Slot {
    /// The group of a report that groups by nothing, or the group whose one value is NULL.
    plain: Option<usize>,
    keyed: FastMap<Vec<u8>, usize>,
}

impl<T: Default> Groups<T> {
    fn new() -> Self {
        Self { slots: Vec::new(), found: Vec::new(), key: Vec::new() }
    }

    /// The index of the group of `bucket` whose values are the columns `columns` of `row`.
    fn find(&mut self, row: &rusqlite::Row<'_>, bucket: usize, grouped: &Grouped, unknown: bool) -> Result<usize> {
        let columns = grouped.columns.as_slice();
        let at = bucket * 2 + usize::from(unknown);
        if self.slots.len() <= at {
            self.slots.resize_with(at + 1, Slot::default);
        }
        let slot = &mut self.slots[at];
        // The value's bytes (`None`: the group is `plain`).
        let key: Option<&[u8]> = match columns {
            [] => None,
            [one] => match row.get_ref(*one)? {
                ValueRef::Text(text) => Some(text),
                _ => None,
            },
            many => {
                self.key.clear();
                for column in many {
                    match row.get_ref(*column)? {
                        ValueRef::Text(text) => {
                            self.key.push(1);
                            self.key.extend_from_slice(&text.len().to_le_bytes());
                            self.key.extend_from_slice(text);
                        }
                        _ => self.key.push(0),
                    }
                }
                Some(&self.key)
            }
        };
        let known = match key {
            None => slot.plain,
            Some(key) => slot.keyed.get(key).copied(),
        };
        if let Some(index) = known {
            return Ok(index);
        }
        let index = self.found.len();
        match key {
            None => slot.plain = Some(index),
            Some(key) => {
                slot.keyed.insert(key.to_vec(), index);
            }
        }
        let values = match grouped.packed {
            None => columns.iter().map(|c| row.get(*c)).collect::<rusqlite::Result<_>>()?,
            Some(packed) => {
                let stored: Option<String> = row.get(columns[0])?;
                packed.unpack(stored.as_deref()).map_err(Error::internal)?
            }
        };
        self.found.push(Group { bucket, key: values, unknown_visitor: unknown, totals: T::default() });
        Ok(index)
    }
}

/// The bucket holding `t`, if any (`buckets` sorted and disjoint).
fn bucket_of(buckets: &[(i64, i64)], t: i64) -> Option<usize> {
    let i = buckets.partition_point(|(start, _)| *start <= t).checked_sub(1)?;
    (t < buckets[i].1).then_some(i)
}

/// For each report, the sessions and visitors of each of its buckets grouped by its dimensions, in one pass over
/// the sessions that start in `part` (a slice of the period, so that the slices can be read in parallel and
/// added up: a visitor counts in a bucket at the session whose previous one started before the bucket, wherever
/// the slices are cut). In a report's whole period (bucket `buckets.len()`) a visitor counts at their first
/// session in the period.
pub fn visits(
    conn: &Connection,
    scope: &Scope<'_>,
    reports: &[Report],
    part: (i64, i64),
) -> Result<Vec<Vec<Group<VisitTotals>>>> {
    let mut args = vec![
        Value::Text(scope.website.to_string()),
        Value::Integer(part.0.max(scope.period.start_ms)),
        Value::Integer(part.1.min(scope.period.end_ms)),
    ];
    let filters = filter_sql(scope, "s", &mut args);
    let (cols, at) = group_columns("s", reports, 4);
    let sql = format!(
        "SELECT s.started_at, s.prev_started_at, s.pageviews, s.last_seen - s.started_at{cols}
         FROM visitor_sessions AS s
         WHERE s.website_id = ?1 AND s.started_at >= ?2 AND s.started_at < ?3{filters}
         ORDER BY s.started_at"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut groups: Vec<Groups<VisitTotals>> = reports.iter().map(|_| Groups::new()).collect();
    while let Some(r) = rows.next()? {
        let (started, prev): (i64, Option<i64>) = (r.get(0)?, r.get(1)?);
        let (pageviews, duration): (i64, i64) = (r.get(2)?, r.get(3)?);
        for ((report, groups), columns) in reports.iter().zip(&mut groups).zip(&at) {
            let mut add = |bucket: usize, since: i64| -> Result<()> {
                let at = groups.find(r, bucket, columns, false)?;
                let t = &mut groups.found[at].totals;
                t.sessions += 1;
                t.visitors += u64::from(prev.is_none_or(|p| p < since));
                t.bounces += u64::from(pageviews <= 1);
                t.duration_ms = t.duration_ms.saturating_add(duration);
                Ok(())
            };
            if let Some(b) = bucket_of(&report.buckets, started) {
                add(b, report.buckets[b].0)?;
            }
            add(report.buckets.len(), scope.period.start_ms)?;
        }
    }
    Ok(groups.into_iter().map(|g| g.found).collect())
}

/// For each report, the payments of each of its buckets in the website currency, grouped by their visitor's
/// values of its dimensions; payments of visitors revlink never saw form their own group (unless a filter is
/// set: they match none). A report's whole period comes as one more bucket, `buckets.len()`.
pub fn payments(conn: &Connection, scope: &Scope<'_>, reports: &[Report]) -> Result<Vec<Vec<Group<PaymentTotals>>>> {
    let (from, to) = scope.period.stamps();
    let mut args = vec![
        Value::Text(scope.website.to_string()),
        Value::Text(from),
        Value::Text(to),
        Value::Text(scope.currency.to_owned()),
    ];
    let mut filters = filter_sql(scope, "v", &mut args);
    if !scope.filters.is_empty() {
        filters.push_str(" AND v.visitor_id IS NOT NULL");
    }
    let (cols, at) = group_columns("v", reports, 5);
    let sql = format!(
        "SELECT CAST(unixepoch(p.paid_at, 'subsec') * 1000 AS INTEGER), p.renewal, {gross}, {refunds}, v.visitor_id{cols}
         FROM payments AS p
         LEFT JOIN visitors AS v ON v.website_id = p.website_id AND v.visitor_id = coalesce(p.visitor_id,
             (SELECT i.visitor_id FROM identities AS i
              WHERE i.website_id = p.website_id AND i.email = lower(p.customer_email) ORDER BY i.first_at LIMIT 1))
         WHERE p.website_id = ?1 AND p.paid_at >= ?2 AND p.paid_at < ?3
           AND (p.settled_currency = ?4 OR p.currency = ?4){filters}",
        gross = "CASE WHEN p.settled_currency = ?4 THEN p.settled_amount ELSE p.amount END",
        refunds = "CASE WHEN p.settled_currency = ?4 THEN (CASE WHEN p.amount > 0 \
                   THEN p.refunded_amount * p.settled_amount / p.amount ELSE 0 END) ELSE p.refunded_amount END",
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut groups: Vec<Groups<PaymentTotals>> = reports.iter().map(|_| Groups::new()).collect();
    // Paying visitors are counted once per group: the (report, group, visitor) triples seen, each visitor by the
    // number it was given when first met.
    let mut paying: FastSet<(usize, usize, usize)> = FastSet::new();
    let mut visitors: FastMap<String, usize> = FastMap::new();
    while let Some(r) = rows.next()? {
        let at_ms: i64 = r.get(0)?;
        let renewal: bool = r.get(1)?;
        let (gross, refunds): (i64, i64) = (r.get(2)?, r.get(3)?);
        let visitor = match r.get_ref(4)? {
            ValueRef::Text(id) => {
                let id = String::from_utf8_lossy(id);
                let next = visitors.len();
                Some(match visitors.get(id.as_ref()) {
                    Some(known) => *known,
                    None => *visitors.entry(id.into_owned()).or_insert(next),
                })
            }
            _ => None,
        };
        for (n, ((report, groups), columns)) in reports.iter().zip(&mut groups).zip(&at).enumerate() {
            for bucket in bucket_of(&report.buckets, at_ms).into_iter().chain([report.buckets.len()]) {
                let at = groups.find(r, bucket, columns, visitor.is_none())?;
                let t = &mut groups.found[at].totals;
                t.payments += 1;
                if renewal {
                    t.renewal = t.renewal.saturating_add(gross);
                } else {
                    t.new = t.new.saturating_add(gross);
                }
                t.refunds = t.refunds.saturating_add(refunds);
                if let Some(v) = visitor
                    && paying.insert((n, at, v))
                {
                    groups.found[at].totals.paying_visitors += 1;
                }
            }
        }
    }
    Ok(groups.into_iter().map(|g| g.found).collect())
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
        "SELECT e.name, COUNT(*), COUNT(DISTINCT e.visitor_id) FROM events AS e INDEXED BY events_goals
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::visitors::{record, tests as visits_db};

    fn sorted<T: Ord>(mut groups: Vec<T>) -> Vec<T> {
        groups.sort();
        groups
    }

    #[test]
    fn reports_read_together_count_as_they_do_apart() {
        let (conn, site) = visits_db::database();
        let hour = 3_600_000;
        // Values that would run together in a key without their lengths: ("ab", "c") and ("a", "bc").
        let hrefs = [
            ("v1", "https://example.com/a?utm_source=ab&utm_medium=c", 0),
            ("v2", "https://example.com/b?utm_source=a&utm_medium=bc", hour),
            ("v3", "https://example.com/a", 2 * hour),
            ("v1", "https://example.com/c", 30 * hour),
        ];
        for (i, (visitor, href, at)) in hrefs.into_iter().enumerate() {
            let mut visit = visits_db::visit(&site, href, Some(&format!("s{i}")), at);
            visit.visitor_id = visitor.into();
            record(&conn, &visit).unwrap();
        }
        let scope =
            Scope { website: &site, currency: "USD", filters: &[], period: Period { start_ms: 0, end_ms: 48 * hour } };
        let reports = [
            Report { buckets: vec![(0, 24 * hour), (24 * hour, 48 * hour)], group: Vec::new() },
            Report { buckets: Vec::new(), group: Dimension::CAMPAIGN.to_vec() },
            Report { buckets: Vec::new(), group: vec![Dimension::Hostname, Dimension::EntryPage] },
            // Two values read one by one (no packed column), the key written with their lengths.
            Report { buckets: Vec::new(), group: vec![Dimension::UtmSource, Dimension::UtmMedium] },
        ];
        let whole = (0, 48 * hour);
        let together = visits(&conn, &scope, &reports, whole).unwrap();
        for (report, found) in reports.iter().zip(&together) {
            let apart = visits(&conn, &scope, std::slice::from_ref(report), whole).unwrap().remove(0);
            let key = |g: &Group<VisitTotals>| (g.bucket, g.key.clone(), g.totals.sessions, g.totals.visitors);
            assert_eq!(sorted(found.iter().map(key).collect()), sorted(apart.iter().map(key).collect()));
        }
        let series: Vec<(usize, u64, u64)> =
            sorted(together[0].iter().map(|g| (g.bucket, g.totals.sessions, g.totals.visitors)).collect());
        assert_eq!(series, [(0, 3, 3), (1, 1, 1), (2, 4, 3)], "per day, then the whole period: v1 once");
        let sources: Vec<Option<String>> = sorted(together[1].iter().map(|g| g.key[0].clone()).collect());
        assert_eq!(sources, [None, Some("a".into()), Some("ab".into())], "three campaigns, none merged");
        let pages: Vec<(Option<String>, u64)> =
            sorted(together[2].iter().map(|g| (g.key[1].clone(), g.totals.visitors)).collect());
        assert_eq!(pages, [(Some("/a".into()), 2), (Some("/b".into()), 1)], "entry pages: v1 stays on /a");
        let pairs: Vec<Vec<Option<String>>> = sorted(together[3].iter().map(|g| g.key.clone()).collect());
        let pair = |a: &str, b: &str| vec![Some(a.to_owned()), Some(b.to_owned())];
        assert_eq!(pairs, [vec![None, None], pair("a", "bc"), pair("ab", "c")], "the pairs stay apart");
    }
}
