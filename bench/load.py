#!/usr/bin/env python3
"""A small closed-loop HTTP load generator (stdlib only): N clients with keep-alive connections
send requests for a fixed time and report throughput and latency percentiles.

  load.py --base http://127.0.0.1:8080 --paths paths.txt --concurrency 16 --duration 10 \
          [--header 'Authorization: Bearer …'] [--method POST --body-template '{"amount_fen": {n}}']

Each client picks paths round-robin from the file (one per line). `{n}` in a body template is replaced
by a number that increases across all clients (for bids). Prints one JSON line of results.
It only ever connects to the base URL given (use loopback addresses).
"""
import argparse, http.client, itertools, json, threading, time, urllib.parse

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--paths", required=True)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--method", default="GET")
    ap.add_argument("--body-template", default=None)
    ap.add_argument("--start", type=int, default=1)
    ap.add_argument("--step", type=int, default=1)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.base)
    assert u.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    paths = [p.strip() for p in open(a.paths, encoding="utf-8") if p.strip()]
    headers = dict(h.split(": ", 1) for h in a.header)
    if a.body_template:
        headers.setdefault("Content-Type", "application/json")
    counter = itertools.count(a.start, a.step)
    lock = threading.Lock()
    lat, statuses = [], {}
    stop = time.monotonic() + a.duration

    def client(i):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        k = i
        local, st = [], {}
        while time.monotonic() < stop:
            path = paths[k % len(paths)]
            k += a.concurrency
            body = None
            if a.body_template:
                with lock:
                    n = next(counter)
                body = a.body_template.replace("{n}", str(n)).encode()
            t0 = time.perf_counter()
            try:
                conn.request(a.method, path, body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                code = r.status
            except Exception:
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
                code = 0
            local.append(time.perf_counter() - t0)
            st[code] = st.get(code, 0) + 1
        with lock:
            lat.extend(local)
            for c, n in st.items():
                statuses[c] = statuses.get(c, 0) + n

    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.concurrency)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    lat.sort()
    pct = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2) if lat else None
    print(json.dumps({"label": a.label, "requests": len(lat), "rps": round(len(lat) / elapsed, 1),
                      "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "max_ms": pct(1.0),
                      "statuses": {str(k): v for k, v in sorted(statuses.items())},
                      "server_errors": sum(v for k, v in statuses.items() if k >= 500 or k == 0)},
                     ensure_ascii=False))

if __name__ == "__main__":
    main()
