# Shared by the bench scripts: a release build, a bench database, a server on a loopback port.
# Usage: source bench/common.sh; bench_build; bench_server_start; …; bench_server_stop
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DB="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/techmarket_bench}"
BENCH_PORT="${BENCH_PORT:-18080}"
BENCH_BASE="http://127.0.0.1:${BENCH_PORT}"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/techmarket"
ADMIN_EMAIL="bench-admin@bench.techmarket.cn"
ADMIN_PASSWORD="bench-admin-password"

bench_build() { (cd "$ROOT" && cargo build --release --bin techmarket >&2); }

bench_psql() { psql "$BENCH_DB" -v ON_ERROR_STOP=1 -tAc "$1"; }

bench_seed_listings() {
    local want="$1" demands="${2:-0}"
    DATABASE_URL="$BENCH_DB" "$BIN" migrate >&2
    local have
    have=$(bench_psql "select count(*) from listings")
    if [ "$have" -lt "$want" ]; then
        DATABASE_URL="$BENCH_DB" "$BIN" seed bulk --listings $((want - have)) --demands "$demands" >&2
        bench_psql "analyze" >/dev/null
    fi
}

bench_admin_token() {
    echo "$ADMIN_PASSWORD" | DATABASE_URL="$BENCH_DB" "$BIN" admin create --email "$ADMIN_EMAIL" --exchange suaee --password-stdin >/dev/null 2>&1 || true
    curl -fsS -H 'Content-Type: application/json' -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" \
        "$BENCH_BASE/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

bench_server_start() {
    DATABASE_URL="$BENCH_DB" TECHMARKET_ADDR="127.0.0.1:${BENCH_PORT}" TECHMARKET_TRUST_PROXY=1 RUST_LOG=warn \
        "$BIN" serve >/tmp/techmarket-bench-server.log 2>&1 &
    BENCH_SERVER_PID=$!
    for _ in $(seq 1 120); do
        curl -fsS "$BENCH_BASE/readyz" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "server did not start; see /tmp/techmarket-bench-server.log" >&2
    return 1
}

bench_server_stop() { kill -TERM "${BENCH_SERVER_PID:-0}" 2>/dev/null || true; wait "${BENCH_SERVER_PID:-0}" 2>/dev/null || true; }
