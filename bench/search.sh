#!/usr/bin/env bash
# Listing search under load: p50 / p99 latency and requests per second at 16 concurrent clients.
#
#   bench/search.sh            # seeds 100,000 listings into techmarket_bench if needed, then measures
#
# Needs: PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/techmarket_bench — a separate
# database, never the real one), cargo, curl, python3 (for URL encoding and a free port) and wrk
# (Debian: `apt-get install -y wrk`). Environment: DURATION (seconds per query, default 10),
# CONNECTIONS (default 16), LISTINGS (default 100000), CARGO_TARGET_DIR as usual.
#
# Each query runs for DURATION seconds with CONNECTIONS keep-alive connections (wrk -t2 -cN), after one
# first request whose time is shown as "first" (cold: the server's search cache is empty then; broad
# searches are served from that cache afterwards, see src/service/listings/cache.rs). The server runs in release mode without background jobs; it is stopped at the end.
set -euo pipefail

cd "$(dirname "$0")/.."
DB_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/techmarket_bench}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
LISTINGS="${LISTINGS:-100000}"
TARGET="${CARGO_TARGET_DIR:-target}"

for tool in cargo curl python3 psql; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
if ! command -v wrk >/dev/null; then
  echo "bench: wrk is required (Debian/Ubuntu: apt-get install -y wrk)" >&2
  exit 1
fi

echo "== building the release binary"
cargo build --release --quiet
BIN="$TARGET/release/techmarket"

export DATABASE_URL="$DB_URL"
psql_db() { psql "$DB_URL" -Atq "$@"; }

listed=0
if psql "${DB_URL%/*}/postgres" -Atqc "select 1 from pg_database where datname = '${DB_URL##*/}'" | grep -q 1; then
  listed=$(psql_db -c "select count(*) from listings where status = 'listed'" 2>/dev/null || echo 0)
fi
if [ "${listed:-0}" -lt $((LISTINGS * 9 / 10)) ]; then
  echo "== seeding $LISTINGS listings into ${DB_URL##*/} (has $listed listed)"
  start=$(date +%s.%N)
  "$BIN" seed bulk --listings "$LISTINGS" --demands 10000
  end=$(date +%s.%N)
  python3 -c "print(f'seeded in {float($end) - float($start):.1f} s')"
  psql_db -c "vacuum analyze listings"
fi
echo "listed listings: $(psql_db -c "select count(*) from listings where status = 'listed'")"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
echo "== starting the server on 127.0.0.1:$port"
TECHMARKET_ADDR="127.0.0.1:$port" TECHMARKET_JOBS=0 RUST_LOG=warn "$BIN" serve > /tmp/techmarket-bench-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server did not start" >&2; cat /tmp/techmarket-bench-server.log >&2; exit 1; }

enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
queries=(
  "q=$(enc 燃气轮机)"
  "q=$(enc 芯片)"
  "q=turbine"
  "field=aerospace&province=chongqing"
  "min_price_fen=100000000&max_price_fen=500000000&sort=price_asc"
)
labels=(
  "q=燃气轮机"
  "q=芯片"
  "q=turbine"
  "field=aerospace&province=chongqing"
  "price 100万–500万元, price_asc"
)

printf '\n%-40s %8s %10s %10s %10s %10s %s\n' "query" "total" "first" "p50" "p99" "req/s" "errors"
for i in "${!queries[@]}"; do
  url="http://127.0.0.1:$port/api/v1/listings?${queries[$i]}"
  # The first request after start is answered without the search cache (cold).
  first=$(curl -fs -o /tmp/techmarket-bench-first.json -w '%{time_total}' "$url")
  first=$(python3 -c "print(f'{float($first) * 1000:.1f}ms')")
  total=$(python3 -c 'import json; print(json.load(open("/tmp/techmarket-bench-first.json"))["total"])')
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url")
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  rps=$(echo "$out" | awk '$1 == "Requests/sec:" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  printf '%-40s %8s %10s %10s %10s %10s %s\n' "${labels[$i]}" "$total" "$first" "$p50" "$p99" "$rps" "${errors:-0}"
done
echo
echo "(wrk -t2 -c$CONNECTIONS -d${DURATION}s per query; server, PostgreSQL and wrk share this machine)"
if [ "${EXPLAIN:-1}" = 1 ]; then
  echo
  psql "$DB_URL" -q -f bench/explain.sql
fi
