-- A visitor's eight campaign values (utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via,
-- the order of Dimension::CAMPAIGN) also as one column: their JSON array, NULL when all eight are (most visitors).
-- The campaign breakdown groups by this one column instead of reading eight in every session of the range; the
-- filters keep using the eight. Written with the visitor (`db::visitors`), copied into each session like the rest
-- of the acquisition.
ALTER TABLE visitors ADD COLUMN campaign TEXT;
ALTER TABLE visitor_sessions ADD COLUMN campaign TEXT;
UPDATE visitors
SET campaign = json_array(utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via)
WHERE coalesce(utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via) IS NOT NULL;
UPDATE visitor_sessions
SET campaign = json_array(utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via)
WHERE coalesce(utm_source, utm_medium, utm_campaign, utm_term, utm_content, ref, source, via) IS NOT NULL;
