# The set-up the bench scripts share; each sources it from the repository's root after setting `keep_var`, the
# name of its variable that keeps the working directory (EVENTS_KEEP, MIXED_KEEP, REPORTS_KEEP).
# Gives: `out` and `bin` (the release build's directory and revlink in it), `work` (a fresh working directory,
# removed at exit unless kept, after stopping every background job the script started), `need_wrk`, `free_port`,
# `wait_for URL [tenths]` and `json_field EXPR` (reads JSON on stdin).

out=${CARGO_TARGET_DIR:-target}/release
bin=$out/revlink
work=$(mktemp -d)

# Every process the script starts in the background is one of its jobs; those still running are stopped.
cleanup() {
  local running
  running=$(jobs -p)
  for pid in $running; do kill "$pid" 2>/dev/null || true; done
  for pid in $running; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${!keep_var:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

need_wrk() {
  if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
  fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits up to $2 tenths of a second (default 100) for an answer from URL $1.
wait_for() { for _ in $(seq "${2:-100}"); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
