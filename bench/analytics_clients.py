"""The Python side of bench/events.sh and bench/reports.sh: the memory sampler, the acknowledged-events writer for
the kill -9 phase and its check against the SQLite file, the timed report requests, the signed-in page render,
and the two tables.

Standard library only. Usage: python3 bench/analytics_clients.py COMMAND ARGS... (see the functions below)."""

import http.client
import json
import os
import re
import sqlite3
import statistics
import sys
import threading
import time
import urllib.parse

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0.0.0 Safari/537.36")


def connection(port, timeout=30):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


# --- bench/events.sh -------------------------------------------------------------------------------------------


def sample(pid, out, seconds, wal, interval):
    """Every INTERVAL seconds for SECONDS: revlink's RSS (VmRSS, KiB; and its anonymous part, RssAnon: the heap,
    without the database file's mapped pages) and the WAL's size, one JSON line each."""
    begin = time.monotonic()
    with open(out, "w") as f:
        while time.monotonic() - begin < seconds:
            try:
                with open(f"/proc/{pid}/status") as s:
                    status = s.read()
                rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
                anon = int(re.search(r"RssAnon:\s+(\d+)", status).group(1))
            except (OSError, AttributeError):
                break
            try:
                wal_bytes = os.path.getsize(wal)
            except OSError:
                wal_bytes = 0
            f.write(json.dumps({"t": round(time.monotonic() - begin, 2), "rss_kib": rss, "anon_kib": anon, "wal_bytes": wal_bytes}) + "\n")
            f.flush()
            time.sleep(interval)


def acked_events(port, tracking_id, domain, out, threads, seconds):
    """THREADS clients each POST pageviews with a new visitor id per event (`kill-<thread>-<n>`), one at a time,
    and append each id answered 200 to OUT, until revlink stops answering (the kill) or SECONDS pass."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    f = open(out, "w")

    def client(t):
        conn = connection(port, timeout=10)
        n = 0
        while time.monotonic() < deadline:
            n += 1
            visitor = f"kill-{t}-{n}"
            body = json.dumps({"websiteId": tracking_id, "domain": domain, "href": f"https://{domain}/pricing",
                               "referrer": "https://www.google.com/", "viewport": {"width": 1440, "height": 900},
                               "visitorId": visitor, "sessionId": f"{visitor}-s", "type": "pageview"})
            try:
                conn.request("POST", "/api/events", body, {"Content-Type": "application/json", "User-Agent": CHROME})
                res = conn.getresponse()
                res.read()
            except (OSError, http.client.HTTPException):
                return
            if res.status == 200:
                with lock:
                    f.write(visitor + "\n")
                    f.flush()

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    f.close()


def verify_events(db, site, acked):
    """How many of the acknowledged visitor ids have their event in the database (read from the file itself)."""
    with open(acked) as f:
        ids = [line.strip() for line in f if line.strip()]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    stored = {r[0] for r in conn.execute(
        "SELECT visitor_id FROM events WHERE website_id = ? AND visitor_id LIKE 'kill-%'", (site,))}
    missing = [i for i in ids if i not in stored]
    print(json.dumps({"acked": len(ids), "stored": len(stored), "missing": len(missing), "examples": missing[:5]}))


def verdict(ok):
    return "PASS" if ok else "FAIL"


def cpu(pid):
    """CPU seconds so far of revlink's threads, by kind (the request workers, the writer, the rest), and the machine's
    /proc/stat counters (jiffies: user nice system idle iowait irq softirq steal), as one JSON line."""
    tick = os.sysconf("SC_CLK_TCK")
    kinds = {"rocket-worker": "requests", "revlink-writer": "writer"}
    threads = {"requests": 0.0, "writer": 0.0, "other": 0.0}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            stat = f.read()
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        kind = next((k for prefix, k in kinds.items() if name.startswith(prefix)), "other")
        threads[kind] += (int(fields[11]) + int(fields[12])) / tick
    with open("/proc/stat") as f:
        machine = [int(x) for x in f.readline().split()[1:9]]
    print(json.dumps({"threads": threads, "machine": machine}))


def cpu_rows(before, after, events):
    """Where the machine's time went during the load: each kind of revlink thread's CPU per event, everything else
    (wrk, the kernel's network work) per event, and the share the machine was idle or waiting for the disk."""
    spent = {k: after["threads"][k] - before["threads"][k] for k in before["threads"]}
    jiffies = [b - a for a, b in zip(before["machine"], after["machine"])]
    total = sum(jiffies)
    busy_seconds = (total - jiffies[3] - jiffies[4]) / os.sysconf("SC_CLK_TCK")
    rest = busy_seconds - sum(spent.values())
    per = lambda s: f"{s / events * 1e6:.0f}"
    return [
        ("  CPU per event, µs: request threads / writer / all else", f"{per(spent['requests'])} / {per(spent['writer'])} / {per(rest)}", "", ""),
        ("  machine idle / waiting for the disk during the load, %", f"{jiffies[3] / total * 100:.0f} / {jiffies[4] / total * 100:.0f}", "", ""),
    ]


def events_report(path):
    run = json.load(open(path))
    samples = [json.loads(line) for line in open(run["samples"]) if line.strip()]
    secs = run["seconds"]
    window = min(60.0, secs / 4)
    first = [s["rss_kib"] for s in samples if s["t"] < window]
    last = [s["rss_kib"] for s in samples if s["t"] >= secs - window]
    first_rss = statistics.mean(first) if first else float("nan")
    last_rss = statistics.mean(last) if last else float("nan")
    rss_ratio = last_rss / first_rss if first else float("nan")
    anon_first = statistics.mean([s.get("anon_kib", 0) for s in samples if s["t"] < window] or [0])
    anon_last = statistics.mean([s.get("anon_kib", 0) for s in samples if s["t"] >= secs - window] or [0])
    peak_wal = max((s["wal_bytes"] for s in samples), default=0)
    bare, post, verify = run["bare"], run["post"], json.load(open(run["verify"]))
    bare_rps = bare["requests"] / bare["seconds"]
    post_rps = post["requests"] / post["seconds"]
    ratio = post_rps / bare_rps
    ceiling = run["ceiling"]["writes"] / run["ceiling"]["seconds"]
    lost = verify["missing"]
    print()
    print(f"events benchmark: {secs} s of POST /api/events, {run['cores']} cores, load before: {run['loadavg']}, "
          f"{run['events_stored']:,} events stored, database {run['db_bytes'] / 1e6:.0f} MB")
    print(f"{'figure':<58} {'measured':>16} {'target':>12}  result")
    rows = [
        ("bare Rocket JSON route, req/s (wrk -t2 -c32)", f"{bare_rps:,.0f}", "", ""),
        (f"POST /api/events, req/s (non-2xx/errors: {post['errors']})", f"{post_rps:,.0f}", "", ""),
        ("  p50 / p99 latency, ms", f"{post['p50_ms']:.1f} / {post['p99_ms']:.1f}", "", ""),
        ("POST /api/events ÷ bare route", f"{ratio:.2f}", ">= 0.30", verdict(ratio >= 0.3 and post["errors"] == 0)),
        *cpu_rows(json.load(open(run["cpu"][0])), json.load(open(run["cpu"][1])), post["requests"]),
        ("  ceiling: events stored alone (writer, 32 tasks, no HTTP), /s", f"{ceiling:,.0f}", "", ""),
        ("  ceiling ÷ bare route", f"{ceiling / bare_rps:.2f}", "", ""),
        (f"RSS, first {window:.0f} s mean, MB", f"{first_rss / 1024:.1f}", "", ""),
        (f"RSS, last {window:.0f} s mean, MB", f"{last_rss / 1024:.1f}", "", ""),
        ("RSS last ÷ first (flat)", f"{rss_ratio:.2f}", "<= 1.10", verdict(rss_ratio <= 1.1)),
        ("  of which anonymous (RssAnon), first → last, MB", f"{anon_first / 1024:.1f} → {anon_last / 1024:.1f}", "", ""),
        ("peak RSS (VmHWM), MB", f"{run['hwm_kib'] / 1024:.1f}", "", ""),
        ("peak WAL, MB", f"{peak_wal / 1e6:.1f}", "", ""),
        (f"acknowledged events lost across kill -9 (of {verify['acked']:,})", f"{lost}", "0",
         verdict(lost == 0 and verify["acked"] > 0)),
    ]
    for name, value, target, result in rows:
        print(f"{name:<58} {value:>16} {target:>12}  {result}")
    if lost:
        print(f"missing, e.g.: {verify['examples']}")


# --- bench/reports.sh ------------------------------------------------------------------------------------------


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def time_routes(port, key, routes_file, runs, out):
    """Each route of ROUTES_FILE (one `name path` a line) RUNS times, one request at a time on one keep-alive
    connection, with the df_ KEY; writes {name: {status, ms: [...], bytes}} to OUT."""
    results = {}
    conn = connection(port)
    for line in open(routes_file):
        if not line.strip():
            continue
        name, path = line.split(None, 1)
        path = path.strip()
        latencies, status, size = [], None, 0
        for _ in range(runs):
            begin = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
            res = conn.getresponse()
            body = res.read()
            latencies.append((time.perf_counter() - begin) * 1000)
            status, size = res.status, len(body)
            if status != 200:
                print(f"{name}: {status} {body[:300]!r}", file=sys.stderr)
                break
        results[name] = {"path": path, "status": status, "ms": latencies, "bytes": size}
        print(f"  {name:<20} p50 {statistics.median(latencies):7.1f} ms", file=sys.stderr)
    json.dump(results, open(out, "w"))


def cookies_of(res, jar):
    for header, value in res.getheaders():
        if header.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            name, _, val = pair.partition("=")
            jar[name.strip()] = val.strip()


def cookie_header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items() if v)


def page(port, email, password, path, runs, out):
    """Signs in through the login form, then GETs PATH RUNS times (the first one is the cold render: the first
    time revlink renders it since it started). Writes {status, ms: [...]} to OUT; a 404 means the page is not
    there (yet)."""
    conn = connection(port)
    jar = {}
    conn.request("GET", "/login")
    res = conn.getresponse()
    html = res.read().decode()
    cookies_of(res, jar)
    token = re.search(r'name="login_token" value="([^"]*)"', html)
    form = urllib.parse.urlencode({"email": email, "password": password, "login_token": token.group(1) if token else ""})
    conn.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded",
                                          "Cookie": cookie_header(jar), "Sec-Fetch-Site": "same-origin"})
    res = conn.getresponse()
    res.read()
    cookies_of(res, jar)
    if res.status != 303:
        json.dump({"status": "login-failed", "login_status": res.status, "ms": []}, open(out, "w"))
        return
    latencies, status = [], None
    for _ in range(runs):
        begin = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie_header(jar)})
        res = conn.getresponse()
        res.read()
        latencies.append((time.perf_counter() - begin) * 1000)
        status = res.status
        if status != 200:
            break
    json.dump({"path": path, "status": status, "ms": latencies}, open(out, "w"))


def reports_report(path):
    run = json.load(open(path))
    routes = json.load(open(run["routes"]))
    seed = run["seed"]
    print()
    print(f"reports benchmark: {seed['visitors']:,} visitors, {seed['pageviews']:,} pageviews "
          f"({seed['sessions']:,} sessions, {seed['goals']:,} goals), {seed['payments']:,} payments over the last "
          f"365 days; seeded in {seed['seconds']:.0f} s; {run['cores']} cores, load before: {run['loadavg']}; "
          f"range {run['range']}")
    print(f"{'route':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target':>8}  result")
    failed = False
    for name, r in routes.items():
        if r["status"] != 200:
            print(f"{name:<34} {'status ' + str(r['status']):>26} {'<= 100':>8}  FAIL")
            failed = True
            continue
        p50, p95 = statistics.median(r["ms"]), percentile(r["ms"], 95)
        ok = p50 <= 100
        failed |= not ok
        print(f"{name:<34} {p50:8.1f} {p95:8.1f} {max(r['ms']):8.1f} {'<= 100':>8}  {verdict(ok)}")
    dash = json.load(open(run["dashboard"]))
    print(f"dashboard: {run['dashboard_path']}")
    if dash["status"] != 200 or not dash["ms"]:
        print(f"{'dashboard (cold render)':<34} {'status ' + str(dash['status']):>26} {'<= 200':>8}  FAIL")
        failed = True
    else:
        cold = dash["ms"][0]
        print(f"{'dashboard, cold render':<34} {cold:8.1f} {'':>8} {'':>8} {'<= 200':>8}  {verdict(cold <= 200)}")
        warm = dash["ms"][1:]
        if warm:
            print(f"{'dashboard, warm (p50 / p95)':<34} {statistics.median(warm):8.1f} {percentile(warm, 95):8.1f} "
                  f"{max(warm):8.1f}")
        failed |= cold > 200
    bare = json.load(open(run["bare"]))["bare"]
    print(f"{'bare Rocket route (for scale)':<34} {statistics.median(bare['ms']):8.1f} {percentile(bare['ms'], 95):8.1f} "
          f"{max(bare['ms']):8.1f}")
    return failed


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "sample":
        sample(int(args[0]), args[1], float(args[2]), args[3], float(args[4]))
    elif command == "acked-events":
        acked_events(int(args[0]), args[1], args[2], args[3], int(args[4]), float(args[5]))
    elif command == "verify-events":
        verify_events(args[0], args[1], args[2])
    elif command == "cpu":
        cpu(*args)
    elif command == "events-report":
        events_report(args[0])
    elif command == "time-routes":
        time_routes(int(args[0]), args[1], args[2], int(args[3]), args[4])
    elif command == "page":
        page(int(args[0]), args[1], args[2], args[3], int(args[4]), args[5])
    elif command == "reports-report":
        sys.exit(1 if reports_report(args[0]) else 0)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
