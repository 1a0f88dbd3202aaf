-- Values that reports group by together, also stored together in one column of `visitors` and of
-- `visitor_sessions` (copied into each session like the rest of the acquisition), so that a breakdown reads one
-- column per session instead of several (`domain::analytics::Packed`); the filters keep using the separate ones.
--
--  * campaign: the eight campaign values (utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source,
--    via; the order of Dimension::CAMPAIGN) as their JSON array, NULL when all eight are (most visitors).
--  * landing_page: hostname and landing path together, `shop.example.com/pricing` (a hostname holds no `/`).
ALTER TABLE visitors ADD COLUMN campaign TEXT;
ALTER TABLE visitors ADD COLUMN landing_page TEXT;
ALTER TABLE visitor_sessions ADD COLUMN campaign TEXT;
ALTER TABLE visitor_sessions ADD COLUMN landing_page TEXT;
UPDATE visitors
SET campaign = CASE WHEN coalesce(utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via) IS NOT NULL
                    THEN json_array(utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via) END,
    landing_page = hostname || landing_path;
UPDATE visitor_sessions
SET campaign = CASE WHEN coalesce(utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via) IS NOT NULL
                    THEN json_array(utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via) END,
    landing_page = hostname || landing_path;
