#!/usr/bin/env bash
# Import benchmark: writes a CSV of N people (default 1 000 000: email, name, phone, three purposes
# each with its own date), then times `assent import` of it into a fresh SQLite database and a fresh
# PostgreSQL database, with the importer's peak RSS. Target (issue 16): SQLite under 120 s and
# 300 MiB on the 2-core machine. Results go to bench/out/import.md (copy them into RESULTS.md).
#
#   bench/import.sh [N]          BENCH_PG_URL=postgres://postgres@127.0.0.1:5432 (skipped if absent)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
OUT=bench/out; mkdir -p "$OUT"
TARGET=target/bench
PG_BASE=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
cargo build --release --target-dir "$TARGET" --bin assent
BIN="$TARGET/release/assent"
export ASSENT_MASTER_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
export ASSENT_LOG=warn

csv="$OUT/people-$N.csv"
[ -f "$csv" ] || python3 bench/make_import.py "$N" "$csv"

# Runs a command; prints "elapsed_s max_rss_mib" (the child's peak RSS from getrusage).
measure() { python3 bench/measure.py "$@"; }

report="$OUT/import.md"
{
  echo "| backend | rows | import (s) | rows/s | peak RSS (MiB) | ledger events | ledger verify |"
  echo "|---|---:|---:|---:|---:|---:|---|"
} > "$report"

run() { # backend url dir
  local backend=$1 url=$2 dir=$3
  ASSENT_DATABASE_URL="$url" ASSENT_DATA_DIR="$dir" "$BIN" apply assent.toml > /dev/null
  read -r secs rss < <(measure env ASSENT_DATABASE_URL="$url" ASSENT_DATA_DIR="$dir" "$BIN" import --form newsletter "$csv")
  local verify events
  verify=$(ASSENT_DATABASE_URL="$url" ASSENT_DATA_DIR="$dir" "$BIN" ledger verify 2>/dev/null || true)
  verify=${verify%%$'\n'*}
  events=$(echo "$verify" | grep -o '[0-9]* events' | cut -d' ' -f1)
  echo "| $backend | $N | $secs | $(python3 -c "print(round($N / $secs))") | $rss | ${events:-?} | $verify |" >> "$report"
  echo "[import] $backend: $secs s, $rss MiB" >&2
}

dir=$(mktemp -d /tmp/assent-import.XXXXXX)
run SQLite "sqlite://$dir/assent.db" "$dir"
rm -rf "$dir"

if psql "$PG_BASE/postgres" -qc 'select 1' > /dev/null 2>&1; then
  psql "$PG_BASE/postgres" -qc 'drop database if exists assent_import_bench' -c 'create database assent_import_bench' > /dev/null
  dir=$(mktemp -d /tmp/assent-import.XXXXXX)
  run PostgreSQL "$PG_BASE/assent_import_bench" "$dir"
  rm -rf "$dir"
  psql "$PG_BASE/postgres" -qc 'drop database assent_import_bench' > /dev/null
else
  echo "| PostgreSQL | $N | - | - | - | - | no server at $PG_BASE |" >> "$report"
fi
cat "$report"

# Into bench/RESULTS.md, replacing the section an earlier run wrote (bench/run.sh keeps it).
results=bench/RESULTS.md
section=$(mktemp)
{
  echo "<!-- import:begin -->"
  echo "## Import (bench/import.sh)"
  echo
  echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC') at \`$(git rev-parse --short HEAD)\`: \`assent import\` of $N people (email, name,"
  echo "phone; service, marketing_sms and personalisation each with its own date) into a fresh database."
  echo "Target: SQLite under 120 s and 300 MiB peak RSS for 1 000 000 rows on this 2-core machine."
  echo
  cat "$report"
  echo "<!-- import:end -->"
} > "$section"
python3 bench/keep_section.py "$results" import "$section"
rm -f "$section"
