#!/usr/bin/env python3
"""Times the dashboard's pages against a running `waymark serve` (issue 17, goal 2).

For each page type it sends N requests that are all different pages (distinct `before=`
positions or points, so the server's cache of rendered pages never answers one: every
request gathers and renders), and reports the median, p95 and max wall time of each
request, the page size, and the server's RSS (VmRSS) and peak RSS (VmHWM) from
/proc/PID/status after the page type. The first `GET /` is reported alone (cold: the
server's first read of the ledger).

    waymark --db sqlite://big.db serve --addr 127.0.0.1:8090 &
    python3 tools/dashboard_bench.py --base http://127.0.0.1:8090 --pid $! --ledger test

The ledger should have several Seasons and a milestone that is rarely updated
(`--rare`, default M3) for the filtered pages to mean something.
"""
import argparse
import json
import statistics
import time
import urllib.request


def rss(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) // 1024
    return out


def get(url):
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        body = r.read()
        status = r.status
    dt = (time.perf_counter() - t) * 1000
    if status != 200:
        raise SystemExit(f"{url}: HTTP {status}")
    return dt, len(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8090")
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--ledger", default="test")
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--rare", default="M3", help="a milestone updated rarely")
    ap.add_argument("--often", default="M1", help="a milestone updated often")
    ap.add_argument("--actor", default="alice")
    ap.add_argument("--only", default="", help="comma-separated page types")
    a = ap.parse_args()
    b, led, n = a.base, a.ledger, a.n
    with urllib.request.urlopen(f"{b}/api/ledgers/{led}/checkpoint") as r:
        head = int(r.read().decode().splitlines()[1])
    with urllib.request.urlopen(f"{b}/api/ledgers/{led}/history?type=SeasonOpened") as r:
        h = json.loads(r.read())
        rows = h["rows"] if isinstance(h, dict) else h
        seasons = sorted(r["season"] for r in rows)
    step = max(1, head // (n + 1))
    before = [head - i * step for i in range(n)]  # distinct pages, head to tail
    p = f"{b}/ledgers/{led}"
    types = {
        "head": [f"{p}?before={x}" for x in before],
        "as_of_season": [
            f"{p}?as_of=season:{seasons[i % len(seasons)]}&before={x}" for i, x in enumerate(before)
        ],
        "milestone_rare": [f"{p}?milestone={a.rare}&before={x}" for x in before],
        "milestone_often": [f"{p}?milestone={a.often}&before={x}" for x in before],
        "actor": [f"{p}?actor={a.actor}&before={x}" for x in before],
        "type_season_opened": [f"{p}?type=SeasonOpened&before={x}" for x in before],
        "decisions_as_of": [
            f"{p}/decisions?as_of=season:{seasons[i % len(seasons)]}" for i in range(n)
        ],
        "api_history_rare": [
            f"{b}/api/ledgers/{led}/history?milestone={a.rare}&before={x}" for x in before
        ],
    }
    only = set(filter(None, a.only.split(",")))
    print(f"head seq {head}, seasons {seasons}, {n} requests per page type")
    dt, size = get(f"{b}/")
    print(f"{'GET / (first, cold)':24} {dt:9.1f} ms  {size/1024:7.1f} KiB  RSS {rss(a.pid)}")
    dt, size = get(f"{b}/")
    print(f"{'GET / (again, cached)':24} {dt:9.1f} ms  {size/1024:7.1f} KiB  RSS {rss(a.pid)}")
    print(f"{'page type':24} {'median':>9} {'p95':>9} {'max':>9} {'KiB':>8}  RSS / peak (MiB)")
    for name, urls in types.items():
        if only and name not in only:
            continue
        times, sizes = [], []
        for u in urls:
            dt, size = get(u)
            times.append(dt)
            sizes.append(size)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
        r = rss(a.pid)
        print(
            f"{name:24} {statistics.median(times):9.1f} {p95:9.1f} {times[-1]:9.1f} "
            f"{statistics.mean(sizes)/1024:8.1f}  {r['VmRSS']} / {r['VmHWM']}"
        )


if __name__ == "__main__":
    main()
