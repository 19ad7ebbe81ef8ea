#!/usr/bin/env bash
# The API against its own contract: starts the debug build of `assent serve` on a throw-away SQLite
# folder with a known API key, runs schemathesis (from PyPI) with every check over
# /api/v1/openapi.json, and fails on any server error or schema violation. Bounded to a few
# minutes. Expects `target/debug/assent` (the test run builds it).
#
# One check is left out: `positive_data_acceptance` expects every schema-valid request to succeed,
# but whether a submission is acceptable depends on the form (its required fields and purposes,
# each field's rules), which a schema shared by every form cannot spell out; those answers are
# 422 `validation_failed` problems, themselves checked against the document.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/debug/assent
[ -x "$bin" ] || cargo build --locked --bin assent
python3 -c "import schemathesis" 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check schemathesis
# Through the interpreter that has it, whether or not its script landed on PATH.
schemathesis() { python3 -c 'import sys; from schemathesis.cli import schemathesis as cli; sys.argv[0] = "schemathesis"; sys.exit(cli())' "$@"; }
schemathesis --version

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export ASSENT_DATA_DIR="$work/data"
export ASSENT_DATABASE_URL="sqlite://$work/data/assent.db"
export ASSENT_BIND="127.0.0.1:$port"
export ASSENT_BASE_URL="http://127.0.0.1:$port"
export ASSENT_CONFIG="$PWD/assent.toml"
export ASSENT_MASTER_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export ASSENT_LOG="warn"
# The generated cases include thousands of valid submissions from one address: without this the
# per-client limit would answer most of them 429 (documented) and leave the 201 path unexplored.
export ASSENT_SUBMISSIONS_PER_MINUTE=0
# The generated cases declare webhook endpoints at made-up addresses: nothing is sent to them.
export ASSENT_WEBHOOK_DELIVERY=0
mkdir -p "$ASSENT_DATA_DIR"

"$bin" migrate >/dev/null
key=$("$bin" key create --name ci 2>/dev/null)
"$bin" serve >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null

# Real people to read, change and erase, and the demo forms, mixed into the generated values so
# the run reaches past 404s (schemathesis.toml in the working directory is read automatically).
subjects=""
for n in 1 2 3 4 5 6; do
  # As an integrator (with the API key): only then does the answer carry the subject id.
  id=$(curl -fsS "http://127.0.0.1:$port/api/v1/forms/newsletter/submissions" -H 'content-type: application/json' \
    -H "authorization: Bearer $key" \
    -d "{\"fields\":{\"email\":\"contract.$n@example.com\",\"name\":\"Contract $n\"},\"purposes\":[\"service\",\"personalisation\",\"marketing_sms\"]}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["subject_id"])')
  subjects="$subjects\"$id\", "
done
cat >"$work/schemathesis.toml" <<EOF
[dictionaries.subjects]
values = [${subjects%, }]

[dictionaries.forms]
values = ["newsletter", "contact"]

[parameters]
"path.id" = { dictionary = "subjects", probability = 0.7 }
"path.form" = { dictionary = "forms", probability = 0.7 }
EOF

# One worker: with several, Hypothesis (on CPython 3.11) can fail with "AST constructor recursion
# depth mismatch" while describing a strategy, a crash of the tool rather than a finding.
# SCHEMATHESIS_EXTRA adds flags when reproducing (e.g. "--phases coverage").
started=$(date +%s)
status=0
# From the temporary folder: schemathesis keeps its cache in the working directory.
(cd "$work" && schemathesis run "http://127.0.0.1:$port/api/v1/openapi.json" ${SCHEMATHESIS_EXTRA:-} \
  --checks all \
  --exclude-checks positive_data_acceptance \
  --header "Authorization: Bearer $key" \
  --max-examples 40 \
  --max-time 120 \
  --seed 7 \
  --workers 1 \
  --no-color) \
  || status=$?
echo "schemathesis took $(( $(date +%s) - started ))s"

if grep -E '"status":5[0-9][0-9]|status=5[0-9][0-9]' "$work/serve.log" >/dev/null; then
  echo "the server answered 5xx during the run:" >&2
  grep -E 'status=5[0-9][0-9]|ERROR' "$work/serve.log" | head -n 20 >&2
  status=1
fi
exit "$status"
