#!/usr/bin/env bash
# Issue 10's report targets in one run on this machine, everything on 127.0.0.1:
#   1. a fresh database (user, website, df_ key from the admin commands) seeded by examples/seed_visits through
#      revlink's own storage functions: 200,000 visitors over the last 365 days, about 1,000,000 pageviews in their
#      sessions, some goals, 20,000 payments attributed to visitors (renewals, refunds);
#   2. a release revlink on it; first the Dashboard page over 12 months, signed in, its first render being the cold
#      one, then each report of the Website analytics API over the year (startAt a year ago,
#      endAt today): overview, timeseries by day, and each breakdown, 20 requests each one after another on one
#      keep-alive connection with the df_ key; the bare Rocket route (examples/bare_rocket) timed the same way;
#   3. one table: p50 and p95 of each against its target (p50 <= 100 ms; cold dashboard render <= 200 ms).
# Usage: bench/reports.sh
# REPORTS_VISITORS (200000) and REPORTS_PAYMENTS (20000) change the seed's size, REPORTS_RUNS (20) the requests per
# route; REPORTS_KEEP=1 keeps the working directory (database, logs, latencies) and prints where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
keep_var=REPORTS_KEEP
# shellcheck source=bench/lib.sh
source bench/lib.sh
visitors=${REPORTS_VISITORS:-200000}
payments=${REPORTS_PAYMENTS:-20000}
runs=${REPORTS_RUNS:-20}

cargo build --release --bin revlink --example bare_rocket --example seed_visits -q
clients="python3 bench/analytics_clients.py"

port=$(free_port); bare_port=$(free_port)

export ROCKET_DATA_DIR="$work/data" ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" ROCKET_LOG_LEVEL=off RUST_LOG=warn \
  ROCKET_RATE_LIMIT_PER_MINUTE=1000000000 ROCKET_ENVIRONMENT=production
db="$work/data/revlink.sqlite3"
password="bench-password-$RANDOM$RANDOM"
printf '%s\n' "$password" >"$work/password"

# 1. The data: the admin commands create the database (migrations run), then the seeder fills it.
$bin user create --email bench@example.com --password-file "$work/password" >/dev/null
site=$($bin website create --owner bench@example.com --domain shop.example.com | json_field '["websiteId"]')
key=$($bin apikey create --website "$site" | json_field '["key"]')
echo "seeding $visitors visitors and $payments payments over the last year..." >&2
seed=$("$out/examples/seed_visits" "$db" "$site" "$visitors" "$payments")
echo "seeded: $seed" >&2

# 2. The reads.
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
$bin serve >>"$work/server.log" 2>&1 &
wait_for "http://127.0.0.1:$port/api/v1/health"

# The Dashboard over the same year as the reports (its heaviest preset: a series by week and five tables). Its first
# render after the start above is the cold one, so it is timed before any report warms revlink up.
# REPORTS_DASHBOARD_PATH=... times another page ({site} stands for the website id).
dashboard_path='/websites/{site}/dashboard?range=12mo'
dashboard_path=${REPORTS_DASHBOARD_PATH:-$dashboard_path}
dashboard_path=${dashboard_path//\{site\}/$site}
echo "dashboard page ($dashboard_path), signed in..." >&2
$clients page "$port" bench@example.com "$password" "$dashboard_path" "$runs" "$work/dashboard.json"

start=$(date -u -d '364 days ago' +%F); end=$(date -u +%F)
range="startAt=$start&endAt=$end"
api=/api/v1/analytics
{
  echo "overview $api/overview?$range"
  echo "timeseries-day $api/timeseries?$range&interval=day"
  for breakdown in referrers campaigns pages countries regions cities devices browsers operating-systems hostnames goals; do
    echo "$breakdown $api/$breakdown?$range"
  done
} >"$work/routes.txt"
echo "each report $runs times over $start .. $end:" >&2
$clients time-routes "$port" "$key" "$work/routes.txt" "$runs" "$work/routes.json"

"$out/examples/bare_rocket" "$bare_port" >/dev/null 2>&1 &
wait_for "http://127.0.0.1:$bare_port/"
echo "bare /" >"$work/bare.txt"
$clients time-routes "$bare_port" none "$work/bare.txt" "$runs" "$work/bare.json"

# 3. The table.
cat >"$work/run.json" <<JSON
{"cores": $(nproc), "loadavg": "$loadavg", "seed": $seed, "range": "$start .. $end",
 "routes": "$work/routes.json", "dashboard": "$work/dashboard.json", "dashboard_path": "$dashboard_path",
 "bare": "$work/bare.json"}
JSON
$clients reports-report "$work/run.json"
