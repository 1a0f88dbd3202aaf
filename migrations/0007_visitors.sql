-- Visitors, their sessions and their events, from the tracking script (POST /api/events; contract §2-§4).
--
-- Times here are INTEGER Unix milliseconds, not the ISO strings of the other tables: these are the tables
-- that grow with traffic, and an integer takes 6 bytes where the string takes 24, in every row and index.
--
-- Every index is one more page written per insert, so each table has only what the reports need:
--  * visitors: one b-tree, the row itself, keyed by (website_id, visitor_id) without a rowid. The event that
--    updates a visitor finds it there, and so do the payments joined through payments.visitor_id. The reports
--    reach visitors through their sessions in a range, so no other index.
--  * visitor_sessions (`sessions` is taken by browser sign-in sessions): keyed by (website_id, session_id)
--    without a rowid; by start time, for the ranges (sessions start in time order: these inserts append);
--    by visitor, for one visitor's activity (one insert per session, not per event).
--  * events: a rowid table (appended) with one index by time (appended too).
-- Deleting a website deletes all three (ON DELETE CASCADE): each table's first key column is website_id, so
-- the cascade finds the rows without a scan. The client's address is never stored.

-- More hosts that count as the website (the script's data-allowed-hostnames): a comma-separated list of host
-- names, each with its subdomains; empty: only the website's domain and its subdomains.
ALTER TABLE websites ADD COLUMN allowed_hostnames TEXT NOT NULL DEFAULT '';

CREATE TABLE visitors (
    website_id      TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    visitor_id      TEXT NOT NULL,
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    -- The session of the visitor's latest event: continued by an event that names no session (cookieless).
    last_session_id TEXT NOT NULL,
    -- Acquisition (contract §3): what the visitor's first event says, never changed after.
    referrer_host   TEXT,               -- NULL: no referrer, or one from the website itself
    referrer        TEXT NOT NULL,      -- the normalised source: Google, X, Direct/None, else the host
    utm_source      TEXT,
    utm_medium      TEXT,
    utm_campaign    TEXT,
    utm_term        TEXT,
    utm_content     TEXT,
    ref             TEXT,
    source          TEXT,
    via             TEXT,
    ad_click_ids    TEXT,               -- the kinds of ad click id present, comma-separated: gclid,fbclid
    landing_path    TEXT NOT NULL,
    hostname        TEXT NOT NULL,
    country         TEXT,               -- ISO 3166-1 alpha-2; NULL: unknown
    region          TEXT,
    city            TEXT,
    device          TEXT CHECK (device IN ('desktop', 'mobile', 'tablet')),  -- NULL: unknown
    browser         TEXT,
    os              TEXT,
    viewport_width  INTEGER,
    viewport_height INTEGER,
    PRIMARY KEY (website_id, visitor_id)
) WITHOUT ROWID;

CREATE TABLE visitor_sessions (
    website_id TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    pageviews  INTEGER NOT NULL,
    entry_path TEXT NOT NULL,
    PRIMARY KEY (website_id, session_id)
) WITHOUT ROWID;
CREATE INDEX visitor_sessions_by_start ON visitor_sessions(website_id, started_at);
CREATE INDEX visitor_sessions_by_visitor ON visitor_sessions(website_id, visitor_id);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    website_id TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    visitor_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('pageview', 'custom', 'payment', 'identify', 'external_link')),
    name       TEXT,                    -- a custom goal's name
    path       TEXT NOT NULL,
    hostname   TEXT NOT NULL,
    at         INTEGER NOT NULL,
    params     TEXT                     -- a small JSON object of strings; NULL: none
);
CREATE INDEX events_by_time ON events(website_id, at);
