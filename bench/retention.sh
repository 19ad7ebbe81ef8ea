#!/usr/bin/env bash
# Retention benchmark: seeds a fresh SQLite database with N people (default 1 000 000), then times
# `assent retention run` and records elapsed time and peak RSS (flat memory = RSS independent of N).
#
#   bench/retention.sh [N] [DUE_PERCENT...]     e.g. bench/retention.sh 1000000 100 10
#
# DUE_PERCENT is the share of people whose consents are all past expiry (everyone due = the worst
# case: every one of them is expired and then erased entirely). Results go to bench/out/retention.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"; shift || true
DUE=("${@:-100}")
OUT=bench/out; mkdir -p "$OUT"
TARGET=target/bench
cargo build --release --target-dir "$TARGET" --bin assent --example seed_retention
BIN="$TARGET/release/assent"; SEED="$TARGET/release/examples/seed_retention"
export ASSENT_MASTER_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"

# Runs a command; prints "elapsed_s max_rss_mib" (the child's peak RSS from getrusage).
measure() { python3 bench/measure.py "$@"; }

report="$OUT/retention.md"
{
  echo "| people | due | seed (s) | retention run (s) | peak RSS (MiB) | per due person (µs) | ledger verify |"
  echo "|---:|---:|---:|---:|---:|---:|---|"
} > "$report"
for due in "${DUE[@]}"; do
  dir=$(mktemp -d /tmp/assent-retention.XXXXXX)
  url="sqlite://$dir/assent.db"
  read -r seed_s _ < <(measure "$SEED" "$url" "$N" --due-percent "$due")
  read -r run_s rss < <(measure env ASSENT_DATABASE_URL="$url" ASSENT_DATA_DIR="$dir" ASSENT_CONFIG=assent.toml "$BIN" retention run)
  verify=$(ASSENT_DATABASE_URL="$url" ASSENT_DATA_DIR="$dir" "$BIN" ledger verify 2>/dev/null || true)
  verify=${verify%%$'\n'*}
  due_people=$(( N * due / 100 ))
  per=$(python3 -c "print(f'{$run_s * 1e6 / max($due_people, 1):.0f}')")
  echo "| $N | $due % | $seed_s | $run_s | $rss | $per | $verify |" | tee -a "$report"
  rm -rf "$dir"
done
echo "written: $report"

# Into bench/RESULTS.md, replacing the section an earlier run wrote (bench/run.sh keeps it).
section=$(mktemp)
{
  echo "<!-- retention:begin -->"
  echo "## Retention (bench/retention.sh)"
  echo
  echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC') at \`$(git rev-parse --short HEAD)\`: \`assent retention run\` over $N seeded people"
  echo "(examples/seed_retention.rs) of whom the given share is due. Target (issue 21): everyone due"
  echo "under 60 s with peak RSS under 300 MiB; 10 % due under 20 s."
  echo
  cat "$report"
  echo "<!-- retention:end -->"
} > "$section"
python3 bench/keep_section.py bench/RESULTS.md retention "$section"
rm -f "$section"
