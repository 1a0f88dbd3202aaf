#!/usr/bin/env bash
# Reconciliation with Stripe's ledger (benches/reconcile.rs): 35 days of 200,000 charges (a refund for one in 50)
# from an instant in-process fake, against the same payments in a fresh database. Prints, for a check whose refunds
# the import never listed and for every usual one, the requests per 100 balance transactions (target <= 1) and the time.
# Usage: bench/reconcile.sh [charges, default 200000]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench reconcile -q -- "${1:-200000}"
