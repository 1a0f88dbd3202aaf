#!/usr/bin/env bash
# Issue 9's measured targets in one run on this machine, everything on 127.0.0.1:
#   1. seeds a fresh database with 1,000,000 payments over the last year for one website (straight into the
#      SQLite file revlink created; the schema's triggers fill the rollups; `revlink check` must pass);
#   2. measures the durable writes alone: the Payments API's insert through revlink's writer from 32 tasks, no
#      HTTP (examples/writer_ceiling, 20 s, on the seeded file before revlink starts), then a bare Rocket
#      route (examples/bare_rocket, its own process) with wrk -t2 -c32;
#   3. mixed load on revlink for as long: wrk -t2 -c32 POSTing /api/v1/payments (df_ key, a fresh
#      transaction_id per request, times spread over the year), one reader fetching the one-year revenue
#      summary back to back and one fetching the payments list every 250 ms (dft_ token), a Stripe import
#      from the stripe_fake example, and a sampler (RSS, WAL size) every second;
#   4. a short write phase ended by kill -9 at a random moment, a restart, and a check that every
#      acknowledged transaction_id is stored exactly once (read from the SQLite file), then `revlink check`;
#   5. one table: each figure against its target.
# Usage: bench/mixed.sh [seconds per phase, default 60]
# MIXED_PAYMENTS (default 1000000) sets the seed, MIXED_IMPORT_CHARGES (default 10000) the fake's charges;
# 0 runs without an import, and revlink then in production (an rk_test_ key needs development).
# MIXED_KEEP=1 keeps the working directory (database, logs, latencies, samples) and prints where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
keep_var=MIXED_KEEP
# shellcheck source=bench/lib.sh
source bench/lib.sh
need_wrk
secs=${1:-60}
payments=${MIXED_PAYMENTS:-1000000}
charges=${MIXED_IMPORT_CHARGES:-10000}

cargo build --release --bin revlink --example bare_rocket --example stripe_fake --example writer_ceiling -q
clients="python3 bench/mixed_clients.py"

port=$(free_port); bare_port=$(free_port); fake_port=$(free_port)

if [ "$charges" -gt 0 ]; then environment=development; else environment=production; fi
export ROCKET_DATA_DIR="$work/data" ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" ROCKET_LOG_LEVEL=off RUST_LOG=warn \
  ROCKET_STRIPE_API_BASE="http://127.0.0.1:$fake_port" ROCKET_RATE_LIMIT_PER_MINUTE=1000000000 \
  ROCKET_ENVIRONMENT="$environment"
db="$work/data/revlink.sqlite3"

# 1. The data: the admin commands create the database (migrations run), then the payments go straight in.
$bin user create --email bench@example.com >/dev/null
site=$($bin website create --owner bench@example.com --domain bench.example.com | json_field '["websiteId"]')
key=$($bin apikey create --website "$site" | json_field '["key"]')
token=$($bin token create --email bench@example.com | json_field '["key"]')
echo "seeding $payments payments over the last year..." >&2
$clients seed "$db" "$site" "$payments"
if ! $bin check >"$work/check.json"; then
  echo "FAILED: revlink check after seeding:" >&2; cat "$work/check.json" >&2; exit 1
fi

# What the disk and the writer allow before any HTTP: durable payment writes from 32 tasks, as the POSTs below.
echo "durable writes alone for 20 s (no HTTP)..." >&2
ceiling=$("$out/examples/writer_ceiling" "$db" "$site" 20 32)

# wrk reports its totals as one JSON line (requests, non-2xx and socket errors, latency percentiles).
cat >"$work/done.lua" <<'LUA'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"seconds":%.3f,"errors":%d,"p50_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.duration / 1e6, e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA
# Each POST: a fresh transaction_id (wrk thread number and a counter), a time somewhere in the last year.
cat "$work/done.lua" - >"$work/post.lua" <<LUA
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local now, n = os.time(), 0
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $key"}
function request()
  n = n + 1
  local paid = os.date("!%Y-%m-%dT%H:%M:%SZ", now - 60 - (n * 7919 + tid * 104729) % 31536000)
  local body = string.format('{"amount":%d.99,"currency":"USD","transaction_id":"mixed-%d-%d","timestamp":"%s",'
    .. '"datafast_visitor_id":"v-%d"}', 9 + n % 90, tid, n, paid, n % 5000)
  return wrk.format("POST", "/api/v1/payments", headers, body)
end
LUA
run_wrk() { wrk -t2 -c32 -d"${secs}s" -s "$@" | sed -n 's/^WRK //p'; }

# 2. The ceiling: a bare Rocket route in its own process, measured before revlink starts.
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
"$out/examples/bare_rocket" "$bare_port" >/dev/null 2>&1 &
bare_pid=$!
wait_for "http://127.0.0.1:$bare_port/"
echo "bare Rocket route for ${secs}s..." >&2
bare=$(run_wrk "$work/done.lua" "http://127.0.0.1:$bare_port/")
kill "$bare_pid"; wait "$bare_pid" 2>/dev/null || true

# 3. Mixed load on revlink.
start_revlink() {
  $bin serve >>"$work/server.log" 2>&1 &
  server_pid=$!
  wait_for "http://127.0.0.1:$port/api/v1/health"
}
import="none (MIXED_IMPORT_CHARGES=0)"
if [ "$charges" -gt 0 ]; then
  "$out/examples/stripe_fake" "$fake_port" --history "$charges" >/dev/null 2>&1 &
  wait_for "http://127.0.0.1:$fake_port/v1/balance" 600
fi
start_revlink
admin="/api/v1/admin/websites/$site"
if [ "$charges" -gt 0 ]; then
  curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"stripeRak":"rk_test_51BenchmarkMixedLoadKeyAbcdefgh"}' "http://127.0.0.1:$port$admin/integrations/stripe" >/dev/null \
    || { echo "FAILED: connecting the Stripe fake" >&2; exit 1; }
fi
year="start=$(date -u -d '364 days ago' +%F)&end=$(date -u +%F)"
echo "mixed load for ${secs}s (POST payments, revenue summary, payments list$([ "$charges" -gt 0 ] && echo ', import'))..." >&2
$clients sample "$port" "$server_pid" "$work/samples.jsonl" "$((secs + 1))" "$token" "$admin" &
sampler_pid=$!
$clients read "$port" "$admin/revenue?$year" "$token" "$work/revenue.log" "$secs" 0 &
revenue_pid=$!
$clients read "$port" "$admin/payments?limit=50" "$token" "$work/list.log" "$secs" 0.25 &
list_pid=$!
post=$(run_wrk "$work/post.lua" "http://127.0.0.1:$port")
wait "$revenue_pid" "$list_pid" "$sampler_pid"
if [ "$charges" -gt 0 ]; then
  import=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port$admin/integrations/stripe" \
    | python3 -c "import json,sys; s=json.load(sys.stdin)['data'][0]['sync']; print(s['state'], s['phase'], s['imported'], 'payments imported', end='')" \
    || echo "status unavailable")
  import="$import at the end of the phase (fake: $charges charges); $($clients import-timeline "$work/samples.jsonl")"
fi

# 4. Acknowledged writes, kill -9 at a random moment, restart, and look for each of them.
echo "acknowledged writes, then kill -9..." >&2
$clients acked-writes "$port" "$key" "$work/acked.txt" 4 60 1000000 &
writer_pid=$!
# The random moment falls after the first acknowledgement (waited for up to 30 s), so there is something to lose.
writes_started=$(date +%s%N)
for _ in $(seq 300); do [ -s "$work/acked.txt" ] && break; sleep 0.1; done
first_ack_ms=$((($(date +%s%N) - writes_started) / 1000000))
sleep "$(python3 -c 'import random; print(round(random.uniform(0.5, 4), 2))')"
read -r rss_end hwm < <(awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} END {print r, h}' "/proc/$server_pid/status")
kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true
wait "$writer_pid" || true
start_revlink
$clients verify "$db" "$site" "$work/acked.txt" >"$work/verify.json"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
if $bin check >"$work/check.json"; then check_after=ok; else check_after="FAILED: $(cat "$work/check.json")"; fi

# 5. The table.
cat >"$work/run.json" <<JSON
{"seconds": $secs, "cores": $(nproc), "loadavg": "$loadavg", "payments": $payments,
 "bare": $bare, "post": $post, "ceiling": $ceiling,
 "revenue_log": "$work/revenue.log", "list_log": "$work/list.log", "samples": "$work/samples.jsonl",
 "verify": "$work/verify.json", "hwm_kib": $hwm, "rss_end_kib": $rss_end, "first_ack_ms": $first_ack_ms,
 "import": $(printf '%s' "$import" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))'),
 "check_after": $(printf '%s' "$check_after" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}
JSON
$clients report "$work/run.json"
[ "$check_after" = ok ] || { echo "FAILED: revlink check after the kill -9" >&2; exit 1; }
