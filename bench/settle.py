#!/usr/bin/env python3
"""Settlement benchmark (issue 7): pay and settle N trades through the API with C concurrent clients.

Creates a fresh bench database, starts the release server on it, makes the accounts, inserts N
`awaiting_payment` trades (fees computed with the unified schedule v1, exactly as the server would),
then 8 client threads each take trades from a queue and, per trade, POST
`/api/v1/admin/trades/{id}/payment-received` (an admin of the buyer's exchange) and
`/api/v1/trades/{id}/confirm-delivery` (the buyer). Prints settlements/s and checks
`/api/v1/admin/ledger/verify`. Standard library only.

    cargo build --release && python3 bench/settle.py [--trades 1000] [--clients 8]

BENCH_URL_SUFFIX is appended to the server's DATABASE_URL (diagnostics only, e.g.
`?options=-c%20synchronous_commit%3Doff` to see how much the commit's WAL flush under the chain-head
lock costs).

Measured 2026-11-26 14:20 (release, 2 shared cores, fsync on): 1,000 trades, 8 clients, 0 errors,
518-670 settlements/s over nine runs (1,040-1,340 API requests/s), p50 11-14 ms and p99 26-40 ms per
payment + confirmation, verify ok (6,000 entries, 13-16 ms). Earlier figures (124/s, then 253/s) were
before the ledger's group commit, before dropping the pool-wide force_custom_plan (re-planning every
statement) and before dropping sqlx's ping on every pool acquire.
"""
import argparse
import base64
import hashlib
import hmac
import re
import struct
import urllib.parse
import http.client
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid

PASSWORD = "bench-password-2026"
EXCHANGES = ["suaee", "cdipex", "nttc_sw", "cquaee"]
PROVINCE = {"suaee": "sichuan", "cdipex": "sichuan", "nttc_sw": "sichuan", "cquaee": "chongqing"}
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
# Unified schedule v1 (DOMAIN.md): marginal bands, min 300 yuan per side, no cap.
BANDS = [(100_000_000, 15_000), (500_000_000, 10_000), (1_000_000_000, 7_000),
         (5_000_000_000, 4_000), (10_000_000_000, 2_000), (None, 1_000)]
MIN_FEE = 30_000
UNIFIED_V1 = "00000000-0000-7000-8000-000000000001"


def fee(amount):
    raw, lower = 0, 0
    for up, rate in BANDS:
        upper = amount if up is None else min(amount, up)
        if upper > lower:
            raw += rate * (upper - lower)
        if up is None or amount <= up:
            break
        lower = up
    f = (raw + 500_000) // 1_000_000
    return min(max(f, MIN_FEE), amount)


def credit_code(n, region="51"):
    # Positions 3–4 are the province of registration (51 Sichuan, 50 Chongqing): the market checks them.
    body = "91%s0100MA%07d" % (region, n)
    s = sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS))
    return body + ALPHABET[(31 - s % 31) % 31]


PG_PORT = str(urllib.parse.urlparse(os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")).port or 5432)


def totp(secret):
    """The current RFC 6238 code of an authenticator secret (admins sign in with one)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def psql(db, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "-d", db],
                   input=sql.encode(), check=True, stdout=subprocess.DEVNULL)


def psql_value(db, sql):
    out = subprocess.run(["psql", "-At", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "-d", db, "-c", sql],
                         check=True, capture_output=True)
    return out.stdout.decode().strip()


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=60)

    def call(self, method, path, token=None, body=None):
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                try:
                    return r.status, (json.loads(raw) if raw else None)
                except ValueError:
                    return r.status, raw.decode(errors="replace")
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise


CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """CPU seconds (user + system) a process has used so far, 0 if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine so far."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v[:8]) - idle) / CLK, sum(v[:8]) / CLK


def pg_pids(db):
    """Every process of the cluster that pg_stat_activity shows (backends and background workers)."""
    out = psql_value(db, "select string_agg(pid::text, ',') from pg_stat_activity")
    return {int(x) for x in out.split(",") if x}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trades", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--db", default="techmarket_bench_settle")
    ap.add_argument("--port", type=int, default=18471)
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(here, "..", "target"))
    ap.add_argument("--binary", default=os.path.join(target, "release", "techmarket"))
    ap.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    ap.add_argument("--statements", action="store_true",
                    help="reset pg_stat_statements before the timed part and print its top statements after")
    args = ap.parse_args()

    url = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/") + "/" + args.db + os.environ.get("BENCH_URL_SUFFIX", "")
    psql("postgres", "drop database if exists %s with (force)" % args.db)
    env = dict(os.environ, DATABASE_URL=url, TECHMARKET_ADDR="127.0.0.1:%d" % args.port,
               RUST_LOG=os.environ.get("RUST_LOG", "warn"))
    subprocess.run([args.binary, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    secrets = {}
    for ex in EXCHANGES:
        out = subprocess.run([args.binary, "admin", "create", "--email", "bench-admin-%s@bench.example" % ex,
                              "--exchange", ex, "--password-stdin"], env=env, input=PASSWORD.encode(),
                             check=True, capture_output=True).stdout.decode()
        uri = re.search(r"otpauth://\S+", out).group(0)
        secrets[ex] = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]

    server = subprocess.Popen([args.binary, "serve"], env=env)
    try:
        c = Client("127.0.0.1", args.port)
        for _ in range(200):
            try:
                if c.call("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            sys.exit("server did not become ready")

        # Organisations: one seller and two buyers per exchange; members verified directly.
        orgs = []
        n = 900_000
        for ex in EXCHANGES:
            for role in ["seller", "buyer1", "buyer2"]:
                n += 1
                email = "%s-%s@bench.example" % (role, ex)
                st, body = c.call("POST", "/api/v1/auth/register", body={
                    "email": email, "password": PASSWORD, "display_name": "压测用户",
                    "organization": {"name": "压测机构 %s %s" % (ex, role), "kind": "enterprise",
                                     "province": PROVINCE[ex], "exchange": ex, "credit_code": credit_code(n, "50" if PROVINCE[ex] == "chongqing" else "51")}})
                assert st == 201, (st, body)
                st, login = c.call("POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
                assert st == 200, (st, login)
                orgs.append({"exchange": ex, "role": role, "org": body["organization"]["id"],
                             "user": body["user"]["id"], "token": login["token"]})
        psql(args.db, "update organizations set verified_at = now();")
        admins = {}
        for ex in EXCHANGES:
            st, login = c.call("POST", "/api/v1/auth/login",
                               body={"email": "bench-admin-%s@bench.example" % ex, "password": PASSWORD,
                                     "otp": totp(secrets[ex])})
            assert st == 200, (st, login)
            admins[ex] = login["token"]

        # Listings and trades: a seller of one exchange, a buyer of another.
        sellers = [o for o in orgs if o["role"] == "seller"]
        buyers = [o for o in orgs if o["role"] != "seller"]
        rows_l, rows_t, plan = [], [], []
        for i in range(args.trades):
            s = sellers[i % len(sellers)]
            b = buyers[(i * 7 + 3) % len(buyers)]
            if b["exchange"] == s["exchange"]:
                b = buyers[(i * 7 + 5) % len(buyers)]
            price = 100_000 + (i * 7_919_993) % 3_000_000_000
            lid, tid = str(uuid.uuid4()), str(uuid.uuid4())
            rows_l.append("('%s','%s','%s','压测成果 %d','energy','know_how',6,'{transfer}','fixed',%d,'sold','%s','%s',now())"
                          % (lid, s["org"], s["user"], i, price, s["exchange"], PROVINCE[s["exchange"]]))
            f = fee(price)
            rows_t.append("('%s','%s','%s','%s',%d,'transfer','tech_transfer',true,'%s',%d,%d,'%s','%s','purchase')"
                          % (tid, lid, s["org"], b["org"], price, UNIFIED_V1, f, f, s["exchange"], b["exchange"]))
            plan.append((tid, admins[b["exchange"]], b["token"]))
        psql(args.db, "begin;\n"
             "insert into listings (id, organization_id, created_by, title, field, ip_type, trl, transaction_modes, "
             "pricing_mode, price_fen, status, exchange, province, listed_at) values\n" + ",\n".join(rows_l) + ";\n"
             "insert into trades (id, listing_id, seller_organization_id, buyer_organization_id, price_fen, "
             "transaction_mode, contract_type, exclusive, fee_schedule_id, buyer_fee_fen, seller_fee_fen, "
             "seller_exchange, buyer_exchange, source) values\n" + ",\n".join(rows_t) + ";\ncommit;\nanalyze;\n")

        work = queue.Queue()
        for p in plan:
            work.put(p)
        errors = []
        latencies = []
        lock = threading.Lock()

        def client():
            cl = Client("127.0.0.1", args.port)
            mine = []
            while True:
                try:
                    tid, admin, buyer = work.get_nowait()
                except queue.Empty:
                    break
                t0 = time.perf_counter()
                st, body = cl.call("POST", "/api/v1/admin/trades/%s/payment-received" % tid, admin)
                if st != 200 or body.get("status") != "paid":
                    errors.append(("pay", tid, st, body))
                    continue
                st, body = cl.call("POST", "/api/v1/trades/%s/confirm-delivery" % tid, buyer)
                if st != 200 or body.get("status") != "settled":
                    errors.append(("confirm", tid, st, body))
                    continue
                mine.append(time.perf_counter() - t0)
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        if args.statements:
            psql(args.db, "create extension if not exists pg_stat_statements; select pg_stat_statements_reset();")
        pgs = pg_pids(args.db)
        cpu0 = {p: proc_cpu(p) for p in pgs}
        srv0, me0, mach0 = proc_cpu(server.pid), sum(os.times()[:2]), machine_cpu()
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        srv1, me1, mach1 = proc_cpu(server.pid), sum(os.times()[:2]), machine_cpu()
        pg_cpu = sum(max(0.0, proc_cpu(p) - cpu0.get(p, 0.0)) for p in pgs | pg_pids(args.db))
        cpu_split = [("server", srv1 - srv0), ("postgres", pg_cpu), ("client", me1 - me0)]
        busy = mach1[0] - mach0[0]
        cpu_split.append(("other", max(0.0, busy - sum(c for _, c in cpu_split))))
        cpu_split.append(("idle", (mach1[1] - mach0[1]) - busy))

        settled = int(psql_value(args.db, "select count(*) from trades where status = 'settled'"))
        st, v = c.call("GET", "/api/v1/admin/ledger/verify", admins["suaee"])
        t0 = time.perf_counter()
        st, v = c.call("GET", "/api/v1/admin/ledger/verify", admins["suaee"])
        verify_s = time.perf_counter() - t0
        latencies.sort()
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0
        print("trades: %d, clients: %d, settled: %d, errors: %d" % (args.trades, args.clients, settled, len(errors)))
        for e in errors[:5]:
            print("  error:", e)
        print("elapsed: %.2f s -> %.0f settlements/s (%.0f API requests/s)"
              % (elapsed, settled / elapsed, 2 * settled / elapsed))
        print("per settlement (payment + confirmation): p50 %.1f ms, p99 %.1f ms" % (p(0.5), p(0.99)))
        print("verify: HTTP %d %s (%.0f ms)" % (st, json.dumps(v), verify_s * 1000))
        n = max(settled, 1)
        print("CPU during the timed part, ms per settlement: "
              + ", ".join("%s %.2f" % (k, c * 1000 / n) for k, c in cpu_split)
              + " (%d cores, %.1f s)" % (os.cpu_count(), elapsed))
        if args.statements:
            print("top statements (pg_stat_statements, timed part): calls per settlement, ms per settlement, query")
            out = psql_value(args.db, "select round(calls::numeric / %d, 2) || ' | ' || round((total_exec_time / %d)::numeric, 3) "
                             "|| ' | ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 150) "
                             "from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database()) "
                             "order by total_exec_time desc limit 30" % (n, n))
            for line in out.splitlines():
                print("  " + line)
        ok = (st == 200 and v["ok"] and v["balanced"] and not errors and settled == args.trades
              and v["entries"] == int(psql_value(args.db, "select count(*) from ledger_entries")))
        target = 300
        print("chain intact: %s; target >= %d settlements/s: %s"
              % ("yes" if ok else "NO", target, "met" if settled / elapsed >= target else "NOT met"))
        sys.exit(0 if ok else 1)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep:
            psql("postgres", "drop database if exists %s with (force)" % args.db)


if __name__ == "__main__":
    main()
