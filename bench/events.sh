#!/usr/bin/env bash
# Issue 10's ingestion targets in one run on this machine, everything on 127.0.0.1:
#   1. the ceilings: the events' storage alone, no HTTP (examples/events_ceiling, 20 s on a database of its own),
#      then a bare Rocket JSON route (examples/bare_rocket, its own process) with wrk -t2 -c32, for the ratio;
#   2. POST /api/events on a release revlink with a fresh database (user and website from the admin commands) for
#      the whole duration with the same wrk settings: the tracking script's bodies (websiteId, domain, href with
#      UTM parameters on some, referrer, viewport, visitorId, sessionId, type pageview), browser user agents, a
#      third of the events from new visitors (a fresh visitorId and sessionId each) and the rest from a pool of
#      10,000 returning ones; revlink's RSS and WAL size sampled every 5 s, and where the machine's time went (CPU
#      per event of revlink's request threads, of its writer and of all else, wrk included; the share idle or
#      waiting for the disk);
#   3. a short phase of acknowledged events (4 clients, a new visitor id per event, each id answered 200 noted)
#      ended by kill -9 at a random moment, a restart, and a look in the SQLite file for every acknowledged event;
#   4. one table: each figure against its target (events ÷ bare >= 0.3; RSS of the last minute ÷ the first
#      <= 1.1; no acknowledged event lost).
# Usage: bench/events.sh [seconds of event load, default 600]   (bench/events.sh 60 for a quick run)
# The bare route runs min(seconds, 60) s: it keeps no state, so a minute measures it as well as ten.
# EVENTS_KEEP=1 keeps the working directory (database, logs, samples, acknowledged ids) and prints where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
keep_var=EVENTS_KEEP
# shellcheck source=bench/lib.sh
source bench/lib.sh
need_wrk
secs=${1:-600}
bare_secs=$((secs < 60 ? secs : 60))

cargo build --release --bin revlink --example bare_rocket --example events_ceiling -q
clients="python3 bench/analytics_clients.py"

port=$(free_port); bare_port=$(free_port)

# The per-address event limit would refuse a load that all comes from 127.0.0.1.
export ROCKET_DATA_DIR="$work/data" ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" ROCKET_LOG_LEVEL=off RUST_LOG=warn \
  ROCKET_EVENT_LIMIT_PER_MINUTE=1000000000 ROCKET_RATE_LIMIT_PER_MINUTE=1000000000 ROCKET_ENVIRONMENT=production
db="$work/data/revlink.sqlite3"
domain=shop.example.com
$bin user create --email bench@example.com >/dev/null
created=$($bin website create --owner bench@example.com --domain "$domain")
site=$(json_field '["websiteId"]' <<<"$created")
tracking=$(json_field '["trackingId"]' <<<"$created")

# wrk reports its totals as one JSON line (requests, non-2xx and socket errors, latency percentiles).
cat >"$work/done.lua" <<'LUA'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"seconds":%.3f,"errors":%d,"p50_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.duration / 1e6, e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA
# Each POST is what the script sends from a page view: a third from new visitors, the rest from 10,000 returning
# ones (whose session id changes every 30 minutes, as the script's session cookie would).
cat "$work/done.lua" - >"$work/events.lua" <<LUA
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local run = string.format("%x", os.time())
local agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
}
local viewports = { '{"width":1920,"height":1080}', '{"width":1440,"height":900}', '{"width":390,"height":844}',
  '{"width":412,"height":915}', '{"width":1536,"height":864}' }
local pages = { "/", "/pricing", "/features", "/blog/how-we-grew", "/blog/pricing-pages", "/docs/install",
  "/docs/api", "/changelog", "/signup", "/integrations/stripe" }
local referrers = { 'null', 'null', 'null', '"https://www.google.com/"', '"https://www.google.com/"', '"https://t.co/"',
  '"https://www.reddit.com/r/SaaS/"', '"https://news.ycombinator.com/"', '"https://$domain/pricing"',
  '"https://blog.example.org/best-tools"' }
local campaigns = { "?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale",
  "?utm_source=twitter&utm_medium=social&utm_campaign=launch", "?utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=Cj0KCQ123",
  "?ref=producthunt" }
-- Every request is built in init() as pieces around fixed-width visitor and session ids, one template per
-- (page, campaign, referrer, agent): request() only picks one and joins the pieces. wrk shares the 2 cores with
-- revlink, and formatting each request in Lua (string.format, wrk.format) cost it ~3x the CPU of the bare route's
-- static request: CPU taken from the server being measured. The traffic is the same as when it was formatted anew.
local ID_WIDTH, SLOT_WIDTH = #string.format("new-%s-%02d-%09d", run, 0, 0), 12
local templates = {}
function init(args)
  math.randomseed(os.time() * 100 + tid)
  local queries = { "" }
  for _, c in ipairs(campaigns) do queries[#queries + 1] = c end
  for _, page in ipairs(pages) do
    for q, query in ipairs(queries) do
      for _, referrer in ipairs(referrers) do
        for agent = 1, #agents do
          local body = string.format('{"websiteId":"$tracking","domain":"$domain","href":"https://$domain%s%s",'
            .. '"referrer":%s,"viewport":%s,"visitorId":"%s","sessionId":"%s%s","adClickIds":{},"type":"pageview"}',
            page, query, referrer, viewports[agent], string.rep("\1", ID_WIDTH), string.rep("\1", ID_WIDTH),
            string.rep("\2", SLOT_WIDTH))
          local headers = { ["Content-Type"] = "application/json", ["User-Agent"] = agents[agent],
            ["Origin"] = "https://$domain" }
          local req = wrk.format("POST", "/api/events", headers, body)
          local id = string.rep("\1", ID_WIDTH)
          local a1, b1 = req:find(id, 1, true)
          local a2, b2 = req:find(id, b1 + 1, true)
          local a3, b3 = req:find(string.rep("\2", SLOT_WIDTH), b2 + 1, true)
          local t = { req:sub(1, a1 - 1), req:sub(b1 + 1, a2 - 1), req:sub(b3 + 1) }
          -- Campaign links are a fifth of the page views, as before: weighted by repeating the plain ones.
          local copies = (q == 1) and 4 * #campaigns or 1
          for _ = 1, copies do templates[#templates + 1] = t end
        end
      end
    end
  end
end
local n = 0
function request()
  n = n + 1
  local visitor, slot
  if math.random() < 0.33 then
    visitor = string.format("new-%s-%02d-%09d", run, tid, n)
    slot = "-s0000000000"
  else
    visitor = string.format("old-%s-%02d-%09d", run, 0, math.random(10000))
    slot = string.format("-s%010d", math.floor(os.time() / 1800))
  end
  local t = templates[math.random(#templates)]
  return t[1] .. visitor .. t[2] .. visitor .. slot .. t[3]
end
LUA
run_wrk() { local d=$1; shift; wrk -t2 -c32 -d"${d}s" -s "$@" | sed -n 's/^WRK //p'; }

# 1. The ceilings, measured before revlink starts. First the events' storage alone, with no HTTP
# (examples/events_ceiling: 32 tasks through the writer, the same mix of new and returning visitors), 20 s on a
# database of its own; then a bare Rocket route in its own process.
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
ceiling_dir="$work/ceiling"
ROCKET_DATA_DIR="$ceiling_dir" $bin user create --email ceiling@example.com >/dev/null
ceiling_site=$(ROCKET_DATA_DIR="$ceiling_dir" $bin website create --owner ceiling@example.com --domain "$domain" | json_field '["websiteId"]')
echo "stored events alone (no HTTP) for 20s..." >&2
ceiling=$("$out/examples/events_ceiling" "$ceiling_dir/revlink.sqlite3" "$ceiling_site" "$domain" 20 32)
rm -rf "$ceiling_dir"
"$out/examples/bare_rocket" "$bare_port" >/dev/null 2>&1 &
bare_pid=$!
wait_for "http://127.0.0.1:$bare_port/"
echo "bare Rocket route for ${bare_secs}s..." >&2
bare=$(run_wrk "$bare_secs" "$work/done.lua" "http://127.0.0.1:$bare_port/")
kill "$bare_pid"; wait "$bare_pid" 2>/dev/null || true

# 2. Events on revlink, sampled.
start_revlink() {
  $bin serve >>"$work/server.log" 2>&1 &
  server_pid=$!
  wait_for "http://127.0.0.1:$port/api/v1/health"
}
start_revlink
# One event first: a wrong tracking id, host or a refused user agent shows here, not as a run of non-2xx.
probe=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -A 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36' \
  -d "{\"websiteId\":\"$tracking\",\"domain\":\"$domain\",\"href\":\"https://$domain/\",\"visitorId\":\"probe\",\"sessionId\":\"probe-s\",\"type\":\"pageview\"}" \
  "http://127.0.0.1:$port/api/events")
[ "$probe" = 200 ] || { echo "FAILED: a probe event answered $probe" >&2; cat "$work/server.log" >&2; exit 1; }
echo "POST /api/events for ${secs}s (RSS and WAL sampled every 5 s)..." >&2
$clients sample "$server_pid" "$work/samples.jsonl" "$secs" "$db-wal" 5 &
sampler_pid=$!
$clients cpu "$server_pid" >"$work/cpu0.json"
post=$(run_wrk "$secs" "$work/events.lua" "http://127.0.0.1:$port")
$clients cpu "$server_pid" >"$work/cpu1.json"
wait "$sampler_pid"
events_stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM events').fetchone()[0])" "$db")
db_bytes=$(stat -c %s "$db")

# 3. Acknowledged events, kill -9 at a random moment after the first acknowledgement, restart, look for each.
echo "acknowledged events, then kill -9..." >&2
$clients acked-events "$port" "$tracking" "$domain" "$work/acked.txt" 4 60 &
writer_pid=$!
for _ in $(seq 300); do [ -s "$work/acked.txt" ] && break; sleep 0.1; done
sleep "$(python3 -c 'import random; print(round(random.uniform(0.5, 4), 2))')"
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")
kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true
wait "$writer_pid" || true
start_revlink
$clients verify-events "$db" "$site" "$work/acked.txt" >"$work/verify.json"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true

# 4. The table.
cat >"$work/run.json" <<JSON
{"seconds": $secs, "cores": $(nproc), "loadavg": "$loadavg", "bare": $bare, "post": $post, "ceiling": $ceiling,
 "samples": "$work/samples.jsonl", "verify": "$work/verify.json", "hwm_kib": $hwm,
 "events_stored": $events_stored, "db_bytes": $db_bytes, "cpu": ["$work/cpu0.json", "$work/cpu1.json"]}
JSON
$clients events-report "$work/run.json"
