#!/usr/bin/env bash
# Requests per second of a bare Rocket route (examples/bare_rocket, a separate minimal binary), revlink's
# authenticated GET .../integrations and POST .../integrations/stripe (against the instant local Stripe fake),
# measured in one run with wrk on this machine. The routes take turns for three rounds and each reports its
# median, so a noisy moment does not decide a ratio.
# Usage: bench/http.sh [seconds per route and round, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --bin revlink --example bare_rocket --example stripe_fake -q

work=$(mktemp -d)
cleanup() { kill "${server_pid:-}" "${fake_pid:-}" "${bare_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); fake_port=$(free_port); bare_port=$(free_port)

export ROCKET_DATA_DIR="$work/data" ROCKET_PORT="$port" ROCKET_LOG_LEVEL=off RUST_LOG=warn \
  ROCKET_STRIPE_API_BASE="http://127.0.0.1:$fake_port" ROCKET_RATE_LIMIT_PER_MINUTE=1000000000 \
  ROCKET_ENVIRONMENT=production
out=${CARGO_TARGET_DIR:-target}/release
bin=$out/revlink
"$out/examples/stripe_fake" "$fake_port" >/dev/null &
fake_pid=$!
"$out/examples/bare_rocket" "$bare_port" >/dev/null 2>&1 &
bare_pid=$!
$bin user create --email bench@example.com >/dev/null
site=$($bin website create --owner bench@example.com --domain bench.example.com | python3 -c 'import json,sys; print(json.load(sys.stdin)["websiteId"])')
token=$($bin token create --email bench@example.com | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
$bin serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.1; done
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$bare_port/" >/dev/null && break; sleep 0.1; done

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"stripeRak":"rk_live_51BenchmarkKeyAbcdefghijklmnop"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA

rps() { wrk -t2 -c32 -d"${secs}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
base="http://127.0.0.1:$port/api/v1"
bare_runs=(); get_runs=(); post_runs=()
for round in 1 2 3; do
  bare_runs+=("$(rps "http://127.0.0.1:$bare_port/")")
  get_runs+=("$(rps -H "Authorization: Bearer $token" "$base/admin/websites/$site/integrations")")
  post_runs+=("$(rps -s "$work/post.lua" "$base/admin/websites/$site/integrations/stripe")")
  echo "round $round: bare ${bare_runs[-1]}, GET ${get_runs[-1]}, POST ${post_runs[-1]}" >&2
done
bare=$(median "${bare_runs[@]}"); get=$(median "${get_runs[@]}"); post=$(median "${post_runs[@]}")

printf '%-48s %10s %8s\n' route req/s "x bare"
printf '%-48s %10.0f %8.2f\n' "bare Rocket route (examples/bare_rocket)" "$bare" 1
printf '%-48s %10.0f %8.2f\n' "GET .../integrations (dft_ token)" "$get" "$(echo "$get / $bare" | bc -l)"
printf '%-48s %10.0f %8.2f\n' "POST .../integrations/stripe (Stripe fake)" "$post" "$(echo "$post / $bare" | bc -l)"
echo "memory (RSS) of revlink after the run: $(ps -o rss= -p "$server_pid") KiB"
