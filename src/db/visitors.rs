//! Visitors, their sessions and their events (migration 0007), the website fields the tracking endpoint checks an
//! event against, and one visitor's profile (`visitor`, for `GET visitors/{id}`). `record` runs inside the writer's
//! transaction (`Db::write`).

use rusqlite::{Connection, OptionalExtension, params};

use crate::db::analytics::count;
use crate::db::optional;
use crate::domain::ObjectId;
use crate::domain::event::EventKind;
use crate::domain::user_agent::Device;
use crate::domain::visit::{Identity, NewVisit, SESSION_IDLE_MS};
use crate::error::Result;

/// What an event is checked against: its website and the hosts that count as it.
#[derive(Debug, Clone)]
pub struct TrackedSite {
    pub website_id: ObjectId,
    pub domain: String,
    pub allowed_hostnames: String,
}

/// The website with this tracking id (`dfid_…`), if any.
pub fn site_by_tracking_id(conn: &Connection, tracking_id: &str) -> Result<Option<TrackedSite>> {
    optional(
        conn.prepare_cached("SELECT id, domain, allowed_hostnames FROM websites WHERE tracking_id = ?1")?
            .query_row([tracking_id], |r| {
                Ok(TrackedSite { website_id: r.get(0)?, domain: r.get(1)?, allowed_hostnames: r.get(2)? })
            }),
    )
}

/// Every website's domain and allowed hostnames (a CORS preflight names no website; the table is small).
pub fn all_site_hosts(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT domain, allowed_hostnames FROM websites")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Stores one event: creates its visitor (with the acquisition) or updates when it was last seen, starts or
/// continues its session, and adds the event. Answers the session it was counted in.
pub fn record(conn: &Connection, visit: &NewVisit) -> Result<String> {
    let session_id = match &visit.session_id {
        Some(named) => named.clone(),
        None => recent_session(conn, visit)?.unwrap_or_else(|| visit.fresh_session_id.clone()),
    };
    upsert_visitor(conn, visit, &session_id)?;
    upsert_session(conn, visit, &session_id)?;
    insert_event(conn, visit, &session_id)?;
    if let Some(identity) = &visit.identity {
        identify(conn, &visit.website_id, &visit.visitor_id, identity, visit.at)?;
    }
    Ok(session_id)
}

/// Records who the visitor said they are; a value not given keeps the one known.
pub fn identify(conn: &Connection, website: &ObjectId, visitor: &str, identity: &Identity, at: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO identities (website_id, visitor_id, user_id, email, name, first_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (website_id, visitor_id) DO UPDATE SET
             user_id = coalesce(excluded.user_id, user_id), email = coalesce(excluded.email, email),
             name = coalesce(excluded.name, name), updated_at = excluded.updated_at",
    )?
    .execute(params![website, visitor, identity.user_id, identity.email, identity.name, at])?;
    Ok(())
}

/// Adds a goal completed by a known visitor, in their latest session, on the page their latest session
/// entered at (a server-side goal has no page of its own). Answers the event's id; `None` for a visitor
/// revlink never saw.
pub fn add_goal(
    conn: &Connection,
    website: &ObjectId,
    visitor: &str,
    name: &str,
    params: Option<&str>,
    at: i64,
) -> Result<Option<i64>> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO events (website_id, visitor_id, session_id, type, name, path, hostname, at, params)
             SELECT v.website_id, v.visitor_id, v.last_session_id, 'custom', ?3,
                    coalesce((SELECT entry_path FROM visitor_sessions
                              WHERE website_id = v.website_id AND session_id = v.last_session_id), v.landing_path),
                    v.hostname, ?4, ?5
             FROM visitors v WHERE v.website_id = ?1 AND v.visitor_id = ?2",
        )?
        .execute(params![website, visitor, name, at, params])?;
    Ok((inserted > 0).then(|| conn.last_insert_rowid()))
}

/// The visitor's latest session, if its last event is less than `SESSION_IDLE_MS` before this one.
fn recent_session(conn: &Connection, visit: &NewVisit) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.session_id FROM visitors v
         JOIN visitor_sessions s ON s.website_id = v.website_id AND s.session_id = v.last_session_id
         WHERE v.website_id = ?1 AND v.visitor_id = ?2 AND s.last_seen > ?3",
    )?;
    let since = visit.at - SESSION_IDLE_MS;
    Ok(stmt.query_row(params![visit.website_id, visit.visitor_id, since], |r| r.get(0)).optional()?)
}

/// Creates the visitor with its acquisition; a known visitor is rewritten only when a new session starts (its
/// latest session, and the time it began): an event within a session leaves the visitor's row, a page among
/// thousands, untouched, and its session's row keeps the time of its last event.
fn upsert_visitor(conn: &Connection, visit: &NewVisit, session_id: &str) -> Result<()> {
    let a = &visit.acquisition;
    let c = &a.campaign;
    conn.prepare_cached(
        "INSERT INTO visitors (website_id, visitor_id, first_seen, last_seen, last_session_id, referrer_host,
             referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via, ad_click_ids,
             landing_path, hostname, country, region, city, device, browser, os, viewport_width, viewport_height,
             campaign, landing_page)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                 ?22, ?23, ?24, ?25,
                 CASE WHEN coalesce(?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) IS NOT NULL
                      THEN json_array(?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) END, ?17 || ?16)
         ON CONFLICT (website_id, visitor_id) DO UPDATE SET
             last_seen = max(last_seen, excluded.last_seen), last_session_id = excluded.last_session_id
         WHERE last_session_id <> excluded.last_session_id",
    )?
    .execute(params![
        visit.website_id,
        visit.visitor_id,
        visit.at,
        session_id,
        a.referrer.host,
        a.referrer.name,
        c.utm_source,
        c.utm_medium,
        c.utm_campaign,
        c.utm_term,
        c.utm_content,
        c.ref_,
        c.source,
        c.via,
        a.ad_click_ids,
        a.landing_path,
        a.hostname,
        a.country,
        a.region,
        a.city,
        a.agent.device.map(Device::as_str),
        a.agent.browser,
        a.agent.os,
        a.viewport.map(|v| v.width),
        a.viewport.map(|v| v.height),
    ])?;
    Ok(())
}

/// Counts the event in its session, or starts the session: with the start of the visitor's previous session and a
/// copy of the visitor's acquisition (migration 0008), so reports read one range of sessions and join nothing.
fn upsert_session(conn: &Connection, visit: &NewVisit, session_id: &str) -> Result<()> {
    let pageview = i64::from(visit.kind == EventKind::Pageview);
    let continued = conn
        .prepare_cached(
            "UPDATE visitor_sessions SET last_seen = max(last_seen, ?3), pageviews = pageviews + ?4
             WHERE website_id = ?1 AND session_id = ?2",
        )?
        .execute(params![visit.website_id, session_id, visit.at, pageview])?;
    if continued > 0 {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO visitor_sessions (website_id, started_at, session_id, visitor_id, prev_started_at, last_seen,
             pageviews, entry_path, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source,
             via, landing_path, hostname, country, region, city, device, browser, os, campaign, landing_page)
         SELECT v.website_id, ?3, ?2, v.visitor_id,
                (SELECT max(started_at) FROM visitor_sessions
                 WHERE website_id = ?1 AND visitor_id = ?4 AND started_at < ?3), ?3, ?5, ?6,
                v.referrer, v.utm_source, v.utm_medium, v.utm_campaign, v.utm_term, v.utm_content, v.ref, v.source,
                v.via, v.landing_path, v.hostname, v.country, v.region, v.city, v.device, v.browser, v.os, v.campaign,
                v.landing_page
         FROM visitors v WHERE v.website_id = ?1 AND v.visitor_id = ?4",
    )?
    .execute(params![visit.website_id, session_id, visit.at, visit.visitor_id, pageview, visit.path])?;
    Ok(())
}

fn insert_event(conn: &Connection, visit: &NewVisit, session_id: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO events (website_id, visitor_id, session_id, type, name, path, hostname, at, params)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        visit.website_id,
        visit.visitor_id,
        session_id,
        visit.kind.as_str(),
        visit.name,
        visit.path,
        visit.hostname,
        visit.at,
        visit.params,
    ])?;
    Ok(())
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
        "SELECT {}, viewport_width, viewport_height, first_seen,
                coalesce((SELECT max(last_seen) FROM visitor_sessions s
                          WHERE s.website_id = v.website_id AND s.visitor_id = v.visitor_id), v.last_seen),
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
    // Pages: the events in the windows of the visitor's latest sessions (by time, no index by visitor).
    let mut stmt = conn.prepare_cached(
        "SELECT e.path, e.at FROM (SELECT started_at, last_seen FROM visitor_sessions
                                   WHERE website_id = ?1 AND visitor_id = ?2 ORDER BY started_at DESC LIMIT ?3) AS s
         JOIN events AS e ON e.website_id = ?1 AND e.at >= s.started_at AND e.at <= s.last_seen
         WHERE e.visitor_id = ?2 AND e.type = 'pageview' ORDER BY e.at DESC LIMIT ?3",
    )?;
    let pages = stmt.query_map(params![website, visitor, max], |r| Ok((r.get(0)?, r.get(1)?)))?;
    record.pages = pages.collect::<rusqlite::Result<_>>()?;
    // Goals (a server-side goal may fall outside any session): through the goals' index.
    let mut stmt = conn.prepare_cached(
        "SELECT e.name, e.at, e.params FROM events AS e INDEXED BY events_goals
         WHERE e.website_id = ?1 AND e.type = 'custom' AND e.visitor_id = ?2 ORDER BY e.at DESC LIMIT ?3",
    )?;
    let goals = stmt.query_map(params![website, visitor, max], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    record.goals = goals.collect::<rusqlite::Result<_>>()?;
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::db::{migrate, users, websites};
    use crate::domain::Actor;
    use crate::domain::event::EventInput;
    use crate::domain::site_hosts::SiteHosts;
    use crate::domain::user_agent::Agent;
    use crate::domain::visit::Acquisition;

    pub(crate) fn database() -> (Connection, ObjectId) {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        migrate::run(&mut conn).unwrap();
        let user = users::create(&conn, "a@example.com", None, None).unwrap();
        let new =
            crate::domain::website::NewWebsite { domain: "example.com".into(), name: None, timezone: "UTC".into() };
        let site = websites::create(&mut conn, &user, &new, &Actor::cli()).unwrap().website_id;
        (conn, site)
    }

    pub(crate) fn visit(site: &ObjectId, href: &str, session: Option<&str>, at: i64) -> NewVisit {
        let body = format!(r#"{{"websiteId":"dfid_x","href":"{href}","type":"pageview"}}"#);
        let event = EventInput::parse(body.as_bytes()).unwrap();
        let acquisition = Acquisition::derive(&event, &SiteHosts::new("example.com", ""), Agent::default(), None);
        NewVisit {
            session_id: session.map(str::to_owned),
            fresh_session_id: format!("s-fresh-{at}"),
            ..NewVisit::pageview(site.clone(), "v1".into(), String::new(), at, acquisition)
        }
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn first_touch_stays_and_last_seen_moves() {
        let (conn, site) = database();
        record(&conn, &visit(&site, "https://example.com/a?utm_source=first", Some("s1"), 1_000)).unwrap();
        record(&conn, &visit(&site, "https://example.com/b?utm_source=second", Some("s1"), 2_000)).unwrap();
        let row: (String, String, i64, i64) = conn
            .query_row("SELECT utm_source, landing_path, first_seen, last_seen FROM visitors", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap();
        assert_eq!(row, ("first".into(), "/a".into(), 1_000, 1_000), "the visitor's row changes with a new session");
        assert_eq!(count(&conn, "SELECT pageviews FROM visitor_sessions WHERE session_id = 's1'"), 2);
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM events"), 2);
    }

    #[test]
    fn an_unnamed_session_continues_while_recent_then_rolls() {
        let (conn, site) = database();
        let first = record(&conn, &visit(&site, "https://example.com/", None, 0)).unwrap();
        assert_eq!(first, "s-fresh-0");
        let soon = SESSION_IDLE_MS - 1;
        assert_eq!(record(&conn, &visit(&site, "https://example.com/2", None, soon)).unwrap(), first);
        let later = soon + SESSION_IDLE_MS;
        let rolled = record(&conn, &visit(&site, "https://example.com/3", None, later)).unwrap();
        assert_eq!(rolled, format!("s-fresh-{later}"));
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM visitor_sessions"), 2);
        assert_eq!(count(&conn, "SELECT SUM(pageviews) FROM visitor_sessions"), 3);
    }

    #[test]
    fn deleting_the_website_deletes_its_visitors_sessions_and_events() {
        let (mut conn, site) = database();
        record(&conn, &visit(&site, "https://example.com/", Some("s1"), 0)).unwrap();
        websites::delete(&mut conn, &site, &Actor::cli()).unwrap();
        for table in ["visitors", "visitor_sessions", "events"] {
            assert_eq!(count(&conn, &format!("SELECT COUNT(*) FROM {table}")), 0, "{table}");
        }
    }
}
