#!/usr/bin/env bash
# A hot auction: 32 concurrent bidders for 20 s against a running server; prints requests/s, p99, 5xx.
#
#   BASE=http://127.0.0.1:8080 DATABASE_URL=postgres://postgres@127.0.0.1:5432/techmarket_bench bench/bids.sh
# (a bench database: the set-up writes organisations and an auction directly into it)
#
# Needs: wrk, python3, psql (the setup marks the bidders' organisations verified and creates the
# auction directly in the database). Tunables: CONNECTIONS (32), THREADS (2), DURATION (20s), BIDDERS (8).
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8080}
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/techmarket_bench}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DURATION=${DURATION:-20s}
BIDDERS=${BIDDERS:-8}
here=$(cd "$(dirname "$0")" && pwd)

setup=$(BASE=$BASE DATABASE_URL=$DATABASE_URL BIDDERS=$BIDDERS python3 - <<'PY'
import json, os, subprocess, urllib.request, uuid

base, db, n = os.environ["BASE"], os.environ["DATABASE_URL"], int(os.environ["BIDDERS"])
run = uuid.uuid4().hex[:8]

def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{path}: {e.code} {e.read().decode()}")

def psql(sql):
    return subprocess.run(["psql", db, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
                          capture_output=True, text=True, check=True).stdout.strip()

ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
def credit_code(k):
    body = "91510100MA%07d" % k
    w = [pow(3, i, 31) for i in range(17)]
    s = sum(ALPHA.index(c) * wi for c, wi in zip(body, w))
    return body + ALPHA[(31 - s % 31) % 31]

tokens, seller_email = [], None
seed = int(run, 16) % 1_000_000
for i in range(n + 1):
    email = f"bench-{run}-{i}@bench.example"
    post("/api/v1/auth/register", {"email": email, "password": "correct horse battery", "display_name": "bench",
         "organization": {"name": f"压测机构 {run} {i}", "kind": "enterprise", "province": "sichuan",
                          "exchange": "suaee", "credit_code": credit_code(seed * 10 + i)}})
    if i == 0:
        seller_email = email
        continue
    tokens.append(post("/api/v1/auth/login", {"email": email, "password": "correct horse battery"})["token"])
psql(f"update organizations set verified_at = now() where name like '压测机构 {run} %'")
lid = str(uuid.uuid4())
psql(f"""insert into listings (id, organization_id, created_by, title, field, ip_type, trl, transaction_modes,
           pricing_mode, status, exchange, province, listed_at)
         select '{lid}', u.organization_id, u.id, '压测拍卖 {run}', 'ic', 'know_how', 6, '{{transfer}}', 'auction',
                'listed', 'suaee', 'sichuan', now() from users u where u.email = '{seller_email}'""")
psql(f"""insert into auctions (listing_id, status, start_price_fen, increment_fen, ends_at, extension_seconds, opened_at)
         values ('{lid}', 'open', 100000, 1, now() + interval '1 day', 300, now())""")
print(lid, *tokens)
PY
)
read -r listing tokens <<<"$setup"
echo "auction $listing, $BIDDERS bidders, $CONNECTIONS connections, $THREADS threads, $DURATION"
# shellcheck disable=SC2086
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$here/bids.lua" \
    "$BASE/api/v1/listings/$listing/bids" -- $tokens
curl -s "$BASE/api/v1/listings/$listing/auction" | python3 -c \
  'import json,sys; a=json.load(sys.stdin); print("auction after the run: bid_count", a["bid_count"], "current_price_fen", a["current_price_fen"])'
