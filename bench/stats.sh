#!/usr/bin/env bash
# The statistics under load: p50 / p99 latency and requests per second of /stats (both languages) and
# /api/v1/stats/summary at 16 concurrent clients, over a market of many settled trades; the time to
# compute one snapshot; the trades CSV's download time, size and the server's memory around it.
#
#   bench/stats.sh          # seeds the demo and 200,000 settled trades into techmarket_bench_stats if needed
#
# Needs: PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/techmarket_bench_stats — a
# separate database, never the real one), cargo, curl, python3, psql, and wrk (installed with
# `apt-get install -y wrk` when missing and running as root). Environment: DURATION (seconds per
# URL, default 10), CONNECTIONS (default 16), TRADES (default 200000), PROFILE (default release; `dev`
# measures the debug build when there is no time for a release one), CARGO_TARGET_DIR as usual, BENCH_BIN (a
# binary built before, e.g. to compare two builds; nothing is built then). The machine's load (`uptime`) is
# printed with every figure: on a shared machine a figure at a load above the number of cores is not final.
#
# The server runs in release mode with its background jobs (the statistics' refresh among them), as
# in production. The snapshot is computed once before the runs (shown as "snapshot"); every request
# of the runs is answered from memory. The trades are inserted straight into the database (varied
# fields, exchanges, prices and settlement months over two years); their fees are the unified v1
# schedule's rounded to a percent, which is all a benchmark needs.
set -euo pipefail

cd "$(dirname "$0")/.."
DB_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/techmarket_bench_stats}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
TRADES="${TRADES:-200000}"
TARGET="${CARGO_TARGET_DIR:-target}"
PROFILE="${PROFILE:-release}"

for tool in cargo curl python3 psql; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing wrk"
    apt-get install -y -q wrk >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
  else
    echo "bench: wrk is required (Debian/Ubuntu: apt-get install -y wrk)" >&2
    exit 1
  fi
fi

if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
else
  echo "== building the $PROFILE binary"
  cargo build --profile "$PROFILE" --quiet --bin techmarket
  BIN="$TARGET/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/techmarket"
fi

export DATABASE_URL="$DB_URL"
psql_db() { psql "$DB_URL" -Atq "$@"; }

"$BIN" migrate >/dev/null
if [ "$(psql_db -c "select count(*) from organizations")" -lt 2 ]; then
  echo "== loading the demo data"
  "$BIN" seed demo >/dev/null
fi
have=$(psql_db -c "select count(*) from trades where status = 'settled'")
if [ "$have" -lt "$TRADES" ]; then
  echo "== adding $((TRADES - have)) settled trades (has $have)"
  psql_db -v ON_ERROR_STOP=1 -v n=$((TRADES - have)) <<'SQL'
with l as (
  select row_number() over (order by id) - 1 as i, id, organization_id, exchange from listings
), nl as (select count(*) as n from l),
o as (
  select row_number() over (order by id) - 1 as i, id, exchange from organizations
), no as (select count(*) as n from o),
g as (
  select g, (g::bigint * 7919) % (select n from nl) as li, (g::bigint * 104729) % (select n from no) as oi,
         (10000 + (g::bigint * 2654435761) % 2000000) * 100 as price
  from generate_series(1, :n) g
)
insert into trades (id, listing_id, seller_organization_id, buyer_organization_id, price_fen, transaction_mode,
  contract_type, exclusive, status, fee_schedule_id, buyer_fee_fen, seller_fee_fen, seller_exchange, buyer_exchange,
  source, created_at, paid_at, settled_at)
select gen_random_uuid(), l.id, l.organization_id, o.id, g.price, 'nonexclusive_license', 'tech_license', false, 'settled',
  '00000000-0000-7000-8000-000000000001', greatest(30000, g.price / 100), greatest(30000, g.price / 100),
  l.exchange, o.exchange, 'purchase',
  timestamptz '2025-01-01' + (g.g % 730) * interval '1 day',
  timestamptz '2025-01-01' + (g.g % 730) * interval '1 day' + interval '1 hour',
  timestamptz '2025-01-01' + (g.g % 730) * interval '1 day' + interval '2 hours' + (g.g % 3600) * interval '1 second'
from g join l on l.i = g.li join o on o.i = g.oi
where o.id <> l.organization_id;
SQL
  psql_db -c "vacuum analyze trades"
fi
echo "settled trades: $(psql_db -c "select count(*) from trades where status = 'settled'")"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
echo "== starting the server on 127.0.0.1:$port"
TECHMARKET_ADDR="127.0.0.1:$port" RUST_LOG=warn "$BIN" serve > /tmp/techmarket-bench-stats-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server did not start" >&2; cat /tmp/techmarket-bench-stats-server.log >&2; exit 1; }

# The first snapshot: computed by the job or by the first request, whichever comes first.
first=$(curl -fs -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/stats")
echo "first /stats: $(python3 -c "print(f'{float($first) * 1000:.0f} ms')"); snapshot computed in $(psql_db -c "select computed_ms from stats_snapshot") ms"
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$server/status"; }

printf '\n%-28s %10s %10s %10s %-7s %s\n' "url" "p50" "p99" "req/s" "errors" "load (1 min) after"
for path in "/stats" "/stats?lang=en" "/api/v1/stats/summary" "/"; do
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$port$path")
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  rps=$(echo "$out" | awk '$1 == "Requests/sec:" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  load=$(cut -d' ' -f1 /proc/loadavg)
  printf '%-28s %10s %10s %10s %-7s %s\n' "$path" "$p50" "$p99" "$rps" "${errors:-0}" "$load"
done
echo
echo "(wrk -t2 -c$CONNECTIONS -d${DURATION}s per URL; server, PostgreSQL and wrk share this machine; $(uptime))"

echo
echo "== the trades CSV"
echo "server memory before: $(rss)"
csv=$(curl -fs -o /tmp/techmarket-bench-trades.csv -w '%{time_total} %{size_download}' "http://127.0.0.1:$port/api/v1/stats/trades.csv")
echo "downloaded $(echo "$csv" | awk '{printf "%.1f MB in %.2f s", $2 / 1e6, $1}'), $(($(wc -l < /tmp/techmarket-bench-trades.csv) - 1)) rows; server memory after: $(rss)"
rm -f /tmp/techmarket-bench-trades.csv
