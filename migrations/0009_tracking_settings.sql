-- Per-website tracking settings (issue 10, "Privacy and settings"), edited on the website's General page.
--
--  * tracking_mode: `cookie` (the script's datafast_visitor_id names the visitor) or `cookieless` (the server
--    ignores any visitor id the body carries and derives one from the daily-keyed hash; contract §4).
--  * excluded_ips: CIDR networks (IPv4 or IPv6), one per line; events from a client address inside one are
--    answered 200 and not stored. The addresses themselves are never stored: only the networks typed here.
--  * excluded_paths: glob patterns (`/admin/*`), one per line; events whose page path matches one are answered
--    200 and not stored.
--
-- websites.allowed_hostnames exists since 0007. Numbered 0009: 0008 is another change made at the same time.
ALTER TABLE websites ADD COLUMN tracking_mode TEXT NOT NULL DEFAULT 'cookie'
    CHECK (tracking_mode IN ('cookie', 'cookieless'));
ALTER TABLE websites ADD COLUMN excluded_ips TEXT NOT NULL DEFAULT '';
ALTER TABLE websites ADD COLUMN excluded_paths TEXT NOT NULL DEFAULT '';
