# Shared by the bench scripts: a release build, a bench database, a server on a loopback port.
# Usage: source bench/common.sh; bench_build; bench_server_start; …; bench_server_stop
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DB="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/techmarket_bench}"
BENCH_PORT="${BENCH_PORT:-18080}"
BENCH_BASE="http://127.0.0.1:${BENCH_PORT}"
# BENCH_BIN: a binary built before (to compare builds); then nothing is built.
BIN="${BENCH_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/techmarket}"
ADMIN_EMAIL="bench-admin@bench.techmarket.cn"
ADMIN_PASSWORD="bench-admin-password"

bench_build() { [ -n "${BENCH_BIN:-}" ] || (cd "$ROOT" && cargo build --release --bin techmarket >&2); }

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

# An exchange admin's API token. Admins sign in with a TOTP code: the secret comes from the otpauth:// URI that
# `admin create` prints (or, when the admin exists from an earlier run, `admin two-factor`, which issues a new one).
bench_admin_token() {
    local out
    out=$(echo "$ADMIN_PASSWORD" | DATABASE_URL="$BENCH_DB" "$BIN" admin create --email "$ADMIN_EMAIL" --exchange suaee --password-stdin 2>/dev/null) ||
        out=$(DATABASE_URL="$BENCH_DB" "$BIN" admin two-factor --email "$ADMIN_EMAIL" 2>/dev/null)
    echo "$out" | ADMIN_EMAIL="$ADMIN_EMAIL" ADMIN_PASSWORD="$ADMIN_PASSWORD" BENCH_BASE="$BENCH_BASE" python3 -c '
import base64, hashlib, hmac, json, os, re, struct, sys, time, urllib.parse, urllib.request
uri = re.search(r"otpauth://\S+", sys.stdin.read()).group(0)
secret = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = mac[-1] & 15
otp = "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)
body = json.dumps({"email": os.environ["ADMIN_EMAIL"], "password": os.environ["ADMIN_PASSWORD"], "otp": otp}).encode()
req = urllib.request.Request(os.environ["BENCH_BASE"] + "/api/v1/auth/login", body, {"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req))["token"])'
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
