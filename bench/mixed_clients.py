"""The Python side of bench/mixed.sh: seeding, the one-at-a-time readers, the sampler, the acknowledged
writes around a kill -9, their check, and the final table. Standard library only; every loop is bounded
by a deadline (and the writers also by a count). Run by bench/mixed.sh, not by hand."""

import datetime
import http.client
import json
import sqlite3
import statistics
import sys
import threading
import time


def seed(db, site, count):
    """COUNT payments of SITE, spread evenly over the year before now, written in one transaction. The
    schema's triggers fill revenue_rollups as the rows go in. Ids look like revlink's (8 hex digits of
    seconds, then 16 more); a seventh are in EUR settled in USD, a twentieth half refunded, a quarter
    renewals, a third attributed to a visitor."""
    now = int(time.time())
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    started = time.time()
    conn.execute("BEGIN")
    conn.execute(
        """
        INSERT INTO payments (id, website_id, source, transaction_id, amount, currency, refunded_amount,
                              settled_amount, settled_currency, fee, renewal, free_trial, visitor_id,
                              customer_id, customer_email, paid_at, recorded_at)
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count - 1),
        p AS (SELECT i, :now - 60 - (i * 31536000 / :count) AS ts,
                     CASE i % 5 WHEN 0 THEN 900 WHEN 1 THEN 1900 WHEN 2 THEN 2900 WHEN 3 THEN 4900 ELSE 9900 END
                         AS amount,
                     i % 7 = 0 AS eur
              FROM n)
        SELECT printf('%08x%016x', ts, i), :site, 'api', printf('seed-%07d', i), amount,
               CASE WHEN eur THEN 'EUR' ELSE 'USD' END, CASE WHEN i % 20 = 0 THEN amount / 2 ELSE 0 END,
               CASE WHEN eur THEN amount * 108 / 100 END, CASE WHEN eur THEN 'USD' END, CASE WHEN eur THEN 59 END,
               i % 4 = 1, 0, CASE WHEN i % 3 = 0 THEN printf('visitor-%05d', i % 20000) END,
               printf('cus_%06d', i % 300000), printf('buyer%d@example.com', i % 300000),
               strftime('%Y-%m-%dT%H:%M:%fZ', ts, 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%fZ', :now, 'unixepoch')
        FROM p
        """,
        {"count": count, "now": now, "site": site},
    )
    conn.execute("COMMIT")
    stored = conn.execute("SELECT COUNT(*) FROM payments WHERE website_id = ?", (site,)).fetchone()[0]
    rollups = conn.execute("SELECT COUNT(*) FROM revenue_rollups WHERE website_id = ?", (site,)).fetchone()[0]
    conn.close()
    if stored < count:
        sys.exit(f"seeding stored {stored} payments, not {count}")
    print(f"seeded {stored} payments ({rollups} rollup rows) in {time.time() - started:.1f} s", file=sys.stderr)


def connection(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def read(port, path, token, out, seconds, pause):
    """GETs PATH one request at a time (keep-alive) until the deadline, PAUSE seconds apart; writes to OUT a
    line per request: seconds since the start and the latency in ms, or an error."""
    begin = time.monotonic()
    deadline = begin + seconds
    conn = connection(port)
    headers = {"Authorization": f"Bearer {token}"}
    with open(out, "w", encoding="utf-8") as f:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            at = time.monotonic() - begin
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as e:
                f.write(f"error {type(e).__name__}\n")
                conn.close()
                conn = connection(port)
                time.sleep(0.1)
                continue
            ms = (time.perf_counter() - started) * 1000
            f.write(f"{at:.3f} {ms:.3f}\n" if status == 200 else f"error {status}\n")
            if pause:
                time.sleep(pause)


def sample(port, pid, out, seconds, token=None, admin=None):
    """Every second until the deadline: revlink's VmRSS (KiB, /proc), walBytes/dbBytes from GET /api/v1/health
    (file sizes, no query) and, given a token, the Stripe import's last known state and count, polled from
    ADMIN/integrations/stripe by a thread of its own so that a slow answer there delays no sample."""
    deadline = time.monotonic() + seconds
    latest = {}

    def poll_import():
        while time.monotonic() < deadline:
            try:
                conn = connection(port)
                conn.request("GET", f"{admin}/integrations/stripe", headers={"Authorization": f"Bearer {token}"})
                sync = json.loads(conn.getresponse().read())["data"][0]["sync"]
                conn.close()
                latest.update({"import": sync["state"], "imported": sync["imported"]})
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                pass
            time.sleep(1)

    if token:
        threading.Thread(target=poll_import, daemon=True).start()
    with open(out, "w", encoding="utf-8") as f:
        while time.monotonic() < deadline:
            row = {"t": round(time.time(), 1)}
            try:
                with open(f"/proc/{pid}/status", encoding="utf-8") as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            row["rss_kib"] = int(line.split()[1])
            except OSError:
                pass
            try:
                conn = connection(port)
                conn.request("GET", "/api/v1/health")
                row.update(json.loads(conn.getresponse().read())["data"][0])
                conn.close()
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                pass
            row.update(latest)
            f.write(json.dumps(row) + "\n")
            f.flush()
            time.sleep(max(0.0, 1 - (time.time() - row["t"])))


def acked_writes(port, key, out, threads, seconds, limit):
    """THREADS clients POST /api/v1/payments with fresh transaction ids until revlink stops answering, the
    deadline passes or LIMIT requests were sent in all; OUT gets every id that was answered 200."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    sent = [0]
    acked = open(out, "w", encoding="utf-8")  # closed below, once the threads are done

    def client(n):
        conn = connection(port)
        i = 0
        while time.monotonic() < deadline:
            with lock:
                if sent[0] >= limit:
                    return
                sent[0] += 1
            i += 1
            tx = f"crash-{n}-{i}"
            paid = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=(i * 7919) % 31_536_000)
            body = json.dumps({"amount": 19.99, "currency": "USD", "transaction_id": tx,
                               "timestamp": paid.strftime("%Y-%m-%dT%H:%M:%SZ")})
            try:
                conn.request("POST", "/api/v1/payments", body=body,
                             headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                return  # revlink is gone: whatever was in flight was never acknowledged
            if response.status == 200:
                with lock:
                    acked.write(tx + "\n")
                    acked.flush()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    acked.close()
    print(f"acknowledged-write phase: {sent[0]} sent", file=sys.stderr)


def verify(db, site, acked_file):
    """How many acknowledged ids are stored exactly once (read straight from the SQLite file)."""
    with open(acked_file, encoding="utf-8") as f:
        ids = [line.strip() for line in f if line.strip()]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    counts = dict(conn.execute(
        "SELECT transaction_id, COUNT(*) FROM payments WHERE website_id = ? AND transaction_id LIKE 'crash-%'"
        " GROUP BY transaction_id", (site,)).fetchall())
    conn.close()
    once = sum(1 for i in ids if counts.get(i) == 1)
    print(json.dumps({"acked": len(ids), "once": once, "missing": [i for i in ids if i not in counts][:10],
                      "stored_unacked": len(counts) - len(set(ids) & set(counts))}))


def import_timeline(samples_file):
    """When the import stopped running, seconds into the mixed phase, from the sampler's rows."""
    with open(samples_file, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        return "no samples"
    first = rows[0]["t"]
    done = next((r for r in rows if r.get("import") not in (None, "running") and r.get("imported")), None)
    if done is None:
        return f"still running at the last sample ({rows[-1].get('imported', 0)} imported by then)"
    return f"ran for the first {done['t'] - first:.0f} s of the phase ({done['imported']} imported then)"


def latencies(path):
    """The latencies (ms) of a reader's log, the number of errors, and the requests slower than a second
    as (seconds into the phase, ms)."""
    values, errors, slow = [], 0, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("error"):
                errors += 1
                continue
            at, ms = map(float, line.split())
            values.append(ms)
            if ms > 1000:
                slow.append((at, ms))
    return values, errors, slow


def pct(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(run_file):
    """The table: the run's figures (a JSON object bench/mixed.sh wrote) against issue 9's targets."""
    with open(run_file, encoding="utf-8") as f:
        run = json.load(f)
    revenue, revenue_errors, revenue_slow = latencies(run["revenue_log"])
    listing, list_errors, list_slow = latencies(run["list_log"])
    samples = []
    with open(run["samples"], encoding="utf-8") as f:
        samples = [json.loads(line) for line in f if line.strip()]
    wal_mb = max((s.get("walBytes", 0) for s in samples), default=0) / 2**20
    rss_samples = max((s.get("rss_kib", 0) for s in samples), default=0)
    rss_mb = max(rss_samples, run["hwm_kib"]) / 1024
    with open(run["verify"], encoding="utf-8") as f:
        crash = json.load(f)
    bare = run["bare"]["requests"] / run["bare"]["seconds"]
    post = run["post"]["requests"] / run["post"]["seconds"]
    ratio = post / bare if bare else float("nan")
    ceiling = run["ceiling"]["writes"] / run["ceiling"]["seconds"]
    p50, p99, list50 = pct(revenue, 50), pct(revenue, 99), pct(listing, 50)

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    rows = [
        ("bare Rocket route (examples/bare_rocket), req/s", f"{bare:,.0f}", "ceiling", ""),
        ("durable payment writes alone (writer, 32 tasks, no HTTP), /s", f"{ceiling:,.0f}", "", ""),
        ("  ratio to bare", f"{ceiling / bare if bare else float('nan'):.2f}", "", ""),
        ("POST /api/v1/payments (df_ key), req/s", f"{post:,.0f}", "", ""),
        ("  ratio to bare", f"{ratio:.2f}", ">= 0.30", verdict(ratio >= 0.3)),
        (f"revenue summary, 1 year, {run['payments']:,} payments: p50 ms", f"{p50:.1f}", "<= 50", verdict(p50 <= 50)),
        ("  p99 ms", f"{p99:.1f}", "<= 150", verdict(p99 <= 150)),
        ("payments list (limit=50): p50 ms", f"{list50:.1f}", "<= 5", verdict(list50 <= 5)),
        ("peak WAL MB (health, sampled 1/s)", f"{wal_mb:.1f}", "<= 64", verdict(wal_mb <= 64)),
        ("peak RSS MB (VmHWM)", f"{rss_mb:.1f}", "<= 64", verdict(rss_mb <= 64)),
        ("acknowledged writes found once after kill -9", f"{crash['once']} of {crash['acked']}", "all",
         verdict(crash["acked"] > 0 and crash["once"] == crash["acked"])),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>14}  {'target':>8}  result")
    for name, value, target, result in rows:
        print(f"{name:<{width}}  {value:>14}  {target:>8}  {result}")
    print()
    w = run["post"]
    print(f"durable writes alone: {run['ceiling']['writes']:,} in {run['ceiling']['seconds']:.1f} s on the seeded file, "
          "before revlink started (so the mixed phase starts with that many more payments).")
    print(f"phases of {run['seconds']} s on {run['cores']} cores (load average {run['loadavg']} before them), "
          f"wrk -t2 -c32. bare: {run['bare']['errors']} errors; "
          f"POST: {w['requests']:,} requests, {w['errors']} non-2xx or socket errors, "
          f"latency p50 {w['p50_ms']:.1f} ms, p99 {w['p99_ms']:.1f} ms.")
    print(f"revenue summary: {len(revenue)} requests one at a time ({revenue_errors} errors), "
          f"mean {statistics.fmean(revenue) if revenue else float('nan'):.1f} ms, max {max(revenue, default=float('nan')):.1f} ms; "
          f"payments list: {len(listing)} requests ({list_errors} errors), p99 {pct(listing, 99):.1f} ms.")
    for name, slow in (("revenue summary", revenue_slow), ("payments list", list_slow)):
        if slow:
            print(f"{name} requests over 1 s: " + ", ".join(f"{ms / 1000:.1f} s from {at:.1f} s into the phase"
                                                           for at, ms in slow))
    print(f"RSS: peak sampled {rss_samples / 1024:.1f} MB, VmHWM {run['hwm_kib'] / 1024:.1f} MB, "
          f"at the end {run['rss_end_kib'] / 1024:.1f} MB; WAL: {len(samples)} samples; database "
          f"{max((s.get('dbBytes', 0) for s in samples), default=0) / 2**20:.0f} MB.")
    print(f"import during the phase: {run['import']}")
    print(f"write phase before kill -9: first acknowledgement after {run['first_ack_ms'] / 1000:.1f} s (polled every 0.1 s); "
          f"after the restart: {crash['stored_unacked']} unacknowledged ids stored as well (in flight); "
          f"revlink check: {run['check_after']}")
    failed = [r[0].strip() for r in rows if r[3] == "FAIL"]
    if failed:
        print("missed targets: " + "; ".join(failed))


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "seed":
        seed(args[0], args[1], int(args[2]))
    elif command == "read":
        read(int(args[0]), args[1], args[2], args[3], float(args[4]), float(args[5]))
    elif command == "sample":
        sample(int(args[0]), int(args[1]), args[2], float(args[3]), *args[4:6])
    elif command == "import-timeline":
        print(import_timeline(args[0]))
    elif command == "acked-writes":
        acked_writes(int(args[0]), args[1], args[2], int(args[3]), float(args[4]), int(args[5]))
    elif command == "verify":
        verify(args[0], args[1], args[2])
    elif command == "report":
        report(args[0])
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
