#!/usr/bin/env bash
# The API under schemathesis (PyPI): a debug revlink on 127.0.0.1 with a throw-away data directory (a
# user, a website, a dft_ token with every permission and a df_ key), then `st run` with every check
# against the served OpenAPI document, in four passes:
#   token, key                    every operation, generated ids
#   token (pinned), key (pinned)  the path's website_id pinned to the real website
# The operations that delete or roll the credential in use, and website deletion, are left out.
# Nothing leaves the machine: Stripe's base URL is an unused port on 127.0.0.1.
#
#   bench/schemathesis.sh                  # all four passes; exits non-zero on any failure
#   ST_MAX_EXAMPLES=50 bench/schemathesis.sh
#   ST_PASSES="token key" bench/schemathesis.sh
#   REVLINK_BIN=path/to/revlink bench/schemathesis.sh   # skip the build
#   ST_SEED=20261128 bench/schemathesis.sh                # the same cases again (CI pins one)
#
# Needs python3 with venv; installs schemathesis into $ST_VENV (default ${TMPDIR:-/tmp}/revlink-schemathesis-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

port="${ST_PORT:-18431}"
stripe_port="${ST_STRIPE_PORT:-18432}"   # nothing listens there
venv="${ST_VENV:-${TMPDIR:-/tmp}/revlink-schemathesis-venv}"
examples="${ST_MAX_EXAMPLES:-100}"
passes="${ST_PASSES:-token key token-pinned key-pinned}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"

if ! [ -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check schemathesis
fi
"$venv/bin/st" --version

bin="${REVLINK_BIN:-}"
if [ -z "$bin" ]; then
  cargo build -q
  bin="$CARGO_TARGET_DIR/debug/revlink"
fi
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export ROCKET_DATA_DIR="$work/data" ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" \
  ROCKET_STRIPE_API_BASE="http://127.0.0.1:$stripe_port" ROCKET_STRIPE_TIMEOUT_SECS=2 ROCKET_STRIPE_MAX_RETRIES=0 \
  ROCKET_RATE_LIMIT_PER_MINUTE=10000000 ROCKET_AUTH_FAILURE_LIMIT_PER_MINUTE=10000000 \
  ROCKET_EVENT_LIMIT_PER_MINUTE=10000000 \
  ROCKET_AUTO_IMPORT=false ROCKET_LOG_LEVEL=critical RUST_LOG=error

json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
"$bin" user create --email fuzz@example.com --name Fuzz >/dev/null
site="$("$bin" website create --owner fuzz@example.com --domain fuzz.example.com --timezone UTC | json websiteId)"
token="$("$bin" token create --email fuzz@example.com --name schemathesis | json key)"
key="$("$bin" apikey create --website "$site" --name schemathesis | json key)"

"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/api/v1/health" >/dev/null || { echo "revlink did not start" >&2; cat "$work/server.log" >&2; exit 1; }

# What JSON Schema cannot say, each answered as the document says in words:
# - Stripe is unreachable on purpose, so a well-formed key is answered 502 (or 504);
# - DELETE /payments needs transaction_id, datafast_visitor_id, or start and end together (a rule across
#   parameters): a schema-valid query without one of them is a 400;
# - a payment's timestamp must not lie in the future, which a static schema cannot bound.
# - the revenue range: start not after end, at most 10 years; the MRR range's months likewise, at most 120 (rules
#   across parameters);
# - disconnecting, syncing, reconciling or setting the webhook secret of a website without Stripe is 404 "Stripe is
#   not connected" (not a missing website); reconciling with `reconcile_days = 0` is 409;
# - a Stripe webhook delivery is authenticated by its `Stripe-Signature` (an HMAC of the body with the website's
#   secret), which no schema can generate: a schema-valid delivery is refused 400, as Stripe specifies;
# - the contract's 400s that depend on what is stored: the 21st access token or a websiteIds entry that is not
#   one of the caller's websites, the 11th key of a website ("Key limit reached"), inviting oneself, the owner
#   removing themself;
# - an event names its website by tracking id and must come from one of its hosts (what is stored): a
#   schema-valid event for an unknown tracking id is a 404, from another host a 403, and an href that is
#   no http(s) URL a 400; a body over 8 KiB (a field past its maxLength can make one) is refused whole, 413.
common='[[operations]]
include-operation-id = "ingest_event"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "403", "404", "413"]
checks.negative_data_rejection.expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

[[operations]]
include-operation-id = "connect_stripe"
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "502", "503", "504"]

[[operations]]
include-operation-id = "delete_payments"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]

[[operations]]
include-operation-id = "create_payment"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]

[[operations]]
include-operation-id = "get_revenue"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]

[[operations]]
include-operation-id = "get_mrr"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]

[[operations]]
include-operation-id = "create_access_token"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]

[[operations]]
include-operation-id = "create_api_key"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]

[[operations]]
include-operation-id = "invite_member"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]

[[operations]]
include-operation-id = "remove_member"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]
checks.ensure_resource_availability.enabled = false

[[operations]]
include-operation-id = "disconnect_stripe"
checks.ensure_resource_availability.enabled = false

[[operations]]
include-operation-id = "sync_stripe"
checks.ensure_resource_availability.enabled = false

[[operations]]
include-operation-id = "reconcile_stripe"
checks.ensure_resource_availability.enabled = false

[[operations]]
include-operation-id = "set_stripe_webhook"
checks.ensure_resource_availability.enabled = false

[[operations]]
include-operation-id = "remove_stripe_webhook"
checks.ensure_resource_availability.enabled = false

[[operations]]
include-operation-id = "stripe_webhook"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404", "429"]
'
# The Website analytics API: rules across parameters (startAt and endAt both or neither, start before end,
# a series of at most 2000 buckets), the values a filter or `fields` may hold, a goal for a visitor never seen
# (404), an email that is no address.
for op in overview timeseries referrers campaigns pages countries regions cities devices browsers \
          operating_systems hostnames goals create_goal identify visitor; do
  common+="
[[operations]]
include-operation-id = \"$op\"
checks.positive_data_acceptance.expected-statuses = [\"2xx\", \"400\", \"401\", \"403\", \"404\"]
"
done
# A dft_ token must name its website on the Payments API (a df_ key names its own), which the document
# cannot make conditional on the credential: the token passes send the real one.
printf '%s\n[parameters]\n"query.websiteId" = "%s"\n' "$common" "$site" >"$work/token.toml"
printf '%s\n' "$common" >"$work/key.toml"
printf '%s\n[parameters]\n"query.websiteId" = "%s"\n"path.website_id" = "%s"\n' "$common" "$site" "$site" >"$work/token-pinned.toml"
cp "$work/token-pinned.toml" "$work/key-pinned.toml"

failed=0
for pass in $passes; do
  case "$pass" in
    token | token-pinned) credential="$token" ;;
    key | key-pinned) credential="$key" ;;
    *) echo "unknown pass $pass" >&2; exit 2 ;;
  esac
  config="$work/$pass.toml"
  echo "== schemathesis: $pass"
  # Every check runs: that is schemathesis's default when the command line names none (`--checks all`
  # would also switch back on the two the configuration above turns off for one operation each).
  # From the work directory: schemathesis keeps its cache (.schemathesis/) in the current one.
  if ! (cd "$work" && "$venv/bin/st" --config-file "$config" run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --max-examples "$examples" --workers 1 --no-color ${ST_SEED:+--seed "$ST_SEED"} \
    -H "Authorization: Bearer $credential" \
    --exclude-operation-id delete_access_token --exclude-operation-id roll_api_key \
    --exclude-operation-id delete_api_key --exclude-operation-id delete_website \
    --report junit --report-dir "${ST_REPORT_DIR:-$work/report}/$pass"); then
    failed=1
    echo "== schemathesis: $pass FAILED" >&2
  fi
  kill -0 "$server_pid" 2>/dev/null || { echo "revlink died" >&2; cat "$work/server.log" >&2; exit 1; }
done
exit "$failed"
