#!/usr/bin/env bash
# Stripe import throughput and peak memory (benches/import.rs): 20,000 and 200,000 charges from an
# instant local fake (its own process) into a fresh SQLite database, three interleaved rounds, medians.
# Prints each run, then charges/s for both sizes and the ratio of peak RSS (200k / 20k).
# Usage: bench/import.sh [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cargo bench --bench import --no-run -q 2>/dev/null
bin=$(cargo bench --bench import --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys; print([m["executable"] for m in map(json.loads, sys.stdin) if m.get("executable") and m["target"]["name"]=="import"][0])')
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for _ in $(seq "$rounds"); do
  for n in 20000 200000; do "$bin" "$n" | tee -a "$results"; done
done
python3 - "$results" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def med(n, key): return statistics.median(r[key] for r in runs if r["charges"] == n)
small, large = med(20000, "peak_rss_kib"), med(200000, "peak_rss_kib")
print(f"median charges/s: 20k {med(20000, 'charges_per_second'):.0f}, 200k {med(200000, 'charges_per_second'):.0f} (target >= 20000)")
print(f"median peak RSS: 20k {small/1024:.1f} MiB, 200k {large/1024:.1f} MiB, ratio {large/small:.2f} (target <= 1.20)")
PY
