#!/usr/bin/env bash
# What signing a tree head costs on a large ledger: seeds N people (examples/seed_retention.rs,
# five ledger events each, none due) into an SQLite file once, then times `assent ledger sign`
# (a head from nothing: every event's leaf read, the root computed) with each binary given, each
# on its own copy of the seeded file, alternately, ROUNDS times. Prints seconds and peak RSS.
#
#   bench/tree_head.sh 200000 target/bench/release/assent /tmp/assent-old
#
# The server's minute job signs the same way once, then reads only the events appended since
# (services::transparency::HeadSigner); before e55dc49 every minute cost what one run here costs.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200000}"; shift || true
BINS=("${@:-target/bench/release/assent}")
ROUNDS="${ROUNDS:-2}"
TARGET=target/bench
cargo build --release --locked --target-dir "$TARGET" --example seed_retention
SEED="$TARGET/release/examples/seed_retention"
export ASSENT_MASTER_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
seeded=$(mktemp -d /tmp/assent-tree-head.XXXXXX)
trap 'rm -rf "$seeded"' EXIT
read -r seed_s _ < <(python3 bench/measure.py "$SEED" "sqlite://$seeded/assent.db" "$N" --due-percent 0)
echo "seeded $N people in $seed_s s"
echo "| round | binary | ledger sign (s) | peak RSS (MiB) |"
echo "|---:|---|---:|---:|"
for round in $(seq 1 "$ROUNDS"); do
  for bin in "${BINS[@]}"; do
    dir=$(mktemp -d /tmp/assent-tree-head-run.XXXXXX)
    cp "$seeded"/assent.db* "$dir"/
    read -r secs rss < <(python3 bench/measure.py env ASSENT_DATABASE_URL="sqlite://$dir/assent.db" \
      ASSENT_DATA_DIR="$dir" ASSENT_CONFIG=assent.toml "$bin" ledger sign)
    echo "| $round | $bin | $secs | $rss |"
    rm -rf "$dir"
  done
done
