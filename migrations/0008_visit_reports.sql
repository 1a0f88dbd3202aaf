-- What the Website analytics API reads (contract §3, §5), shaped so a report over a year is one range scan.
--
-- 1. visitor_sessions is keyed by (website_id, started_at, session_id): a range of sessions is one contiguous
--    run of the table, not an index walk with a lookup per row. Each session carries a copy of its visitor's
--    acquisition (first touch: the same values in every session of a visitor, never changed), so a breakdown by
--    source, campaign, landing page, country or device groups the range it reads without a join.
-- 2. Each session keeps `prev_started_at`, the start of its visitor's previous session (NULL for the first).
--    Unique visitors over any range [s, e) are then counted without DISTINCT: a visitor is counted at their
--    first session in the range, the one whose previous session started before s. Sums of buckets would count a
--    returning visitor once per bucket; this counts them once per range, in any time zone, for any range.
-- 3. identities: who a visitor said they are (`datafast("identify")`, `datafast("payment", {email})`,
--    `POST /api/v1/identify`), so a payment without `datafast_visitor_id` whose customer email is known is
--    attributed to the visitor who gave it (the earliest such visitor).
-- 4. Goals (custom events) are read by name and time through a partial index that also holds the visitor (the
--    goals report reads nothing else): pageviews, most of the events, pay nothing for it. There is no index of
--    events by visitor: one visitor's pages are found in their sessions' time windows (by time), so an event
--    costs no random index write.

CREATE TABLE visitor_sessions_keyed (
    website_id      TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    started_at      INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    visitor_id      TEXT NOT NULL,
    prev_started_at INTEGER,
    last_seen       INTEGER NOT NULL,
    pageviews       INTEGER NOT NULL,
    entry_path      TEXT NOT NULL,
    -- The visitor's acquisition, as in `visitors`.
    referrer        TEXT NOT NULL,
    utm_source      TEXT,
    utm_medium      TEXT,
    utm_campaign    TEXT,
    utm_term        TEXT,
    utm_content     TEXT,
    ref             TEXT,
    source          TEXT,
    via             TEXT,
    landing_path    TEXT NOT NULL,
    hostname        TEXT NOT NULL,
    country         TEXT,
    region          TEXT,
    city            TEXT,
    device          TEXT,
    browser         TEXT,
    os              TEXT,
    PRIMARY KEY (website_id, started_at, session_id)
) WITHOUT ROWID;

INSERT INTO visitor_sessions_keyed
SELECT s.website_id, s.started_at, s.session_id, s.visitor_id,
       lag(s.started_at) OVER (PARTITION BY s.website_id, s.visitor_id ORDER BY s.started_at, s.session_id),
       s.last_seen, s.pageviews, s.entry_path,
       v.referrer, v.utm_source, v.utm_medium, v.utm_campaign, v.utm_term, v.utm_content, v.ref, v.source, v.via,
       v.landing_path, v.hostname, v.country, v.region, v.city, v.device, v.browser, v.os
FROM visitor_sessions s JOIN visitors v ON v.website_id = s.website_id AND v.visitor_id = s.visitor_id;

DROP TABLE visitor_sessions;
ALTER TABLE visitor_sessions_keyed RENAME TO visitor_sessions;
-- An event names its session: found here, then its row by the key this index holds.
CREATE UNIQUE INDEX visitor_sessions_by_id ON visitor_sessions(website_id, session_id);
-- One visitor's sessions in order: the previous session of a new one, and `GET visitors/{id}`.
CREATE INDEX visitor_sessions_by_visitor ON visitor_sessions(website_id, visitor_id, started_at);

CREATE TABLE identities (
    website_id TEXT NOT NULL REFERENCES websites(id) ON DELETE CASCADE,
    visitor_id TEXT NOT NULL,
    user_id    TEXT,
    email      TEXT,                    -- lower-cased
    name       TEXT,
    first_at   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (website_id, visitor_id)
) WITHOUT ROWID;
CREATE INDEX identities_by_email ON identities(website_id, email, first_at) WHERE email IS NOT NULL;

CREATE INDEX events_goals ON events(website_id, name, at, visitor_id) WHERE type = 'custom';
-- A customer's payments by email, for identify-linked attribution.
CREATE INDEX payments_by_email ON payments(website_id, lower(customer_email)) WHERE customer_email IS NOT NULL;
