#!/usr/bin/env bash
# Matching speed (issue 5): GET /api/v1/demands/{id}/matches over 100,000 listed listings,
# one client and 16 concurrent clients, p50/p99. Target p99 ≤ 100 ms. Needs PostgreSQL (BENCH_DATABASE_URL,
# default 127.0.0.1:5432/techmarket_bench). The plans of the retrieval: bench/explain-matches.sql.
source "$(dirname "$0")/common.sh"
bench_build
bench_seed_listings 100000 2000
bench_server_start
trap bench_server_stop EXIT
TOKEN=$(bench_admin_token)
PATHS=$(mktemp)
# Demands of the admin's exchange only: another exchange's answer 403 at once (API.md), which would flatter the figures.
bench_psql "select '/api/v1/demands/' || id || '/matches' from demands where status = 'open' and exchange = 'suaee' order by random() limit 300" > "$PATHS"
for c in 1 16; do
    python3 "$ROOT/bench/load.py" --base "$BENCH_BASE" --paths "$PATHS" --concurrency "$c" --duration 15 \
        --header "Authorization: Bearer $TOKEN" --label "demand matches, 100k listings, $c client(s)"
    echo "  ($(uptime))"
done
