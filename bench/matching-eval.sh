#!/usr/bin/env bash
# Matching quality (issues 5 and 20): P@1 and top-3 of the labelled set on each part (old, new, tuning),
# through the real API and database. Needs PostgreSQL (DATABASE_URL, as for `cargo test`).
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/matching-eval.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --test api matching_eval:: -- --nocapture 2>&1 |
    sed -n '/^matching evaluation/,/^test /p'
