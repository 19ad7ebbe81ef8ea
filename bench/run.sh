#!/usr/bin/env bash
# Assent vs bench/baseline (and ../shared/limit when it is there), in the same run, with the same load
# generator.
#
#   bench/run.sh                 # build, load, write bench/RESULTS.md (~40 min of loads, ~28 without limit,
#                                # + a few minutes of profiling after builds; longer while other work keeps
#                                # the machine busy)
#
# Builds release binaries of Assent (target/bench), of bench/baseline (target/baseline) and, when
# LIMIT_DIR holds it, of limit (target/limit); starts one Assent on SQLite (synchronous=FULL), one Assent
# on PostgreSQL, the baseline and limit, and loads each endpoint with
#   wrk -t2 -c64 -d15s --latency   (after a 3 s warm-up that is not recorded)
# one load at a time, every request with a new e-mail address. Each comparison is a group of loads
# measured back to back (Assent, then the baseline, then limit; the order is reversed every other
# round), and the whole set of groups is repeated ROUNDS times. The report gives per-group medians and
# the ratio of requests per second Assent/baseline and Assent/limit of the same round, against the
# targets of issue 21 (judged against the baseline; against limit as well where it ran):
#   POST /f/newsletter and the JSON API: >= 0.8 of /submit-sqlite-group on SQLite, >= 1.0 of /submit-pg
#     on PostgreSQL, and a p99 no more than 2x the reference's
#   consent check GET /api/v1/consents >= 0.3 of GET /hello; GET /me (signed in) >= 0.2 of GET /form on
#     SQLite and >= 0.1 on PostgreSQL; GET /f/newsletter >= 0.5 of GET /form
#   mixed load, per backend: 48 connections of consent checks and 16 of new signups (JSON API) at once;
#     the checks >= 0.3 of the reference's GET /hello alone, the signups >= 0.5 of Assent's own JSON
#     signups alone with 16 connections (both measured in the same round)
# A scenario short of a target is profiled with perf under that load (PROFILE=never to skip,
# PROFILE=always to profile every Assent scenario).
#
# Environment (all optional):
#   ROUNDS=3 DURATION=15s WARMUP=3s THREADS=2 CONNECTIONS=64 PROFILE=auto SKIP_BUILD=0
#   SQLITE_TARGET=0.8 PG_TARGET=1.0 P99_FACTOR=2 GET_TARGET=0.5 (or TARGET) CONSENT_TARGET=0.3
#   ME_SQLITE_TARGET=0.2 ME_PG_TARGET=0.1 MIX_CONSENT_TARGET=0.3 MIX_SIGNUP_TARGET=0.5
#   MIX_CONSENT_CONNECTIONS=48 MIX_SIGNUP_CONNECTIONS=16
#   QUIET_MAX=25 QUIET_WAIT=300   before each group, wait up to QUIET_WAIT s for the machine to be idle
#                                 (busy <= QUIET_MAX % of one core) apart from the benchmark itself
#   OTHER_MAX=20 RETRIES=10       redo a group when other processes used > OTHER_MAX % of a core in it
#   BENCH_REF=<git revision>   build and measure that commit (git archive into a temp dir) instead of
#                              the working tree, e.g. BENCH_REF=HEAD while others edit src/ (the
#                              baseline and the load scripts always come from this bench/ folder)
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432   (server; databases are created and dropped)
#   LIMIT_DIR=<repo>/../shared/limit (left out when absent)  ASSENT_SQLITE_PORT=18081 ASSENT_PG_PORT=18082
#   BASELINE_PORT=8089 LIMIT_PORT=8088 RESULTS=bench/RESULTS.md
#   ONLY="mix-pg json-pg"        only these comparison rows (see PAIRS), for a quick A/B
# Raw wrk outputs, server logs and profiles go to bench/out/ (not committed).
set -euo pipefail
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
LIMIT_DIR=${LIMIT_DIR:-$ROOT/../shared/limit}
PG_BASE=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
SQLITE_TARGET=${SQLITE_TARGET:-0.8}
PG_TARGET=${PG_TARGET:-1.0}
P99_FACTOR=${P99_FACTOR:-2}
GET_TARGET=${GET_TARGET:-${TARGET:-0.5}}
CONSENT_TARGET=${CONSENT_TARGET:-0.3}
ME_SQLITE_TARGET=${ME_SQLITE_TARGET:-0.2}
ME_PG_TARGET=${ME_PG_TARGET:-0.1}
MIX_CONSENT_TARGET=${MIX_CONSENT_TARGET:-0.3}
MIX_SIGNUP_TARGET=${MIX_SIGNUP_TARGET:-0.5}
MIX_CONSENT_CONNECTIONS=${MIX_CONSENT_CONNECTIONS:-48}
MIX_SIGNUP_CONNECTIONS=${MIX_SIGNUP_CONNECTIONS:-16}
PROFILE=${PROFILE:-auto}
QUIET_MAX=${QUIET_MAX:-25}
QUIET_WAIT=${QUIET_WAIT:-300}
OTHER_MAX=${OTHER_MAX:-20}
RETRIES=${RETRIES:-10}
SKIP_BUILD=${SKIP_BUILD:-0}
BENCH_REF=${BENCH_REF:-}
ASSENT_SQLITE_PORT=${ASSENT_SQLITE_PORT:-18081}
ASSENT_PG_PORT=${ASSENT_PG_PORT:-18082}
BASELINE_PORT=${BASELINE_PORT:-8089}
LIMIT_PORT=${LIMIT_PORT:-8088}
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
# The import and retention sections (bench/import.sh, bench/retention.sh) are kept as they are.
# shellcheck disable=SC2015 # "|| true": no file or no section is an empty KEPT_SECTIONS
KEPT_SECTIONS=$( [ -f "$RESULTS" ] && sed -n '/^<!-- \(import\|retention\):begin -->$/,/^<!-- \(import\|retention\):end -->$/p' "$RESULTS" || true)
ASSENT_DB=assent_bench
BASELINE_DB=baseline_bench
LIMIT_DB=limit_bench
OUT=$BENCH_DIR/out

ASSENT_BIN=$ROOT/target/bench/release/assent
BASELINE_DIR=$BENCH_DIR/baseline
BASELINE_BIN=$ROOT/target/baseline/release/baseline
LIMIT_BIN=$ROOT/target/limit/release/limit
# limit is not part of this repository: compared with as well when it is there, left out otherwise.
HAVE_LIMIT=0
[ -f "$LIMIT_DIR/Cargo.toml" ] && HAVE_LIMIT=1
DBS=("$ASSENT_DB" "$BASELINE_DB")
[ "$HAVE_LIMIT" = 1 ] && DBS+=("$LIMIT_DB")

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- clean-up (always runs)
PIDS=()
WORK=""
DBS_CREATED=0
cleanup() {
    local status=$?
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$DBS_CREATED" = 1 ]; then
        for db in "${DBS[@]}"; do
            psql "$PG_BASE/postgres" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
        done
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- prerequisites
apt_install() {
    [ "$(id -u)" = 0 ] || die "$1 is missing and this is not root; install it (apt-get install $*)"
    log "installing $* (apt)"
    # shellcheck disable=SC2015 # either step failing is the same failure
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || die "could not install $*"
}
command -v cargo >/dev/null || die "cargo not found"
command -v wrk >/dev/null || apt_install wrk
command -v curl >/dev/null || apt_install curl
command -v psql >/dev/null || apt_install postgresql-client
[ -f "$BASELINE_DIR/Cargo.toml" ] || die "the baseline is missing at $BASELINE_DIR"
[ "$HAVE_LIMIT" = 1 ] || log "limit not found at $LIMIT_DIR: comparing with the baseline only (set LIMIT_DIR to add it)"
psql "$PG_BASE/postgres" -qAtc 'select 1' >/dev/null 2>&1 \
    || die "PostgreSQL is not reachable at $PG_BASE (start it, or set BENCH_PG_URL)"
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORTS=("$ASSENT_SQLITE_PORT" "$ASSENT_PG_PORT" "$BASELINE_PORT")
[ "$HAVE_LIMIT" = 1 ] && PORTS+=("$LIMIT_PORT")
for p in "${PORTS[@]}"; do
    port_busy "$p" && die "port $p is already in use (set ASSENT_SQLITE_PORT / ASSENT_PG_PORT / BASELINE_PORT / LIMIT_PORT)"
done

# ---------------------------------------------------------------- build
WORK=$(mktemp -d "${TMPDIR:-/tmp}/assent-bench.XXXXXX")
SRC=$ROOT
if [ -n "$BENCH_REF" ]; then
    GIT_COMMIT=$(git -C "$ROOT" rev-parse --verify "$BENCH_REF^{commit}") || die "unknown revision $BENCH_REF"
    GIT_DIRTY=""
    SRC=$WORK/src
    mkdir -p "$SRC"
    git -C "$ROOT" archive "$GIT_COMMIT" | tar -x -C "$SRC"
    log "measuring $BENCH_REF = $GIT_COMMIT (exported to $SRC)"
else
    GIT_COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
    GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- . ':!bench' 2>/dev/null | awk '{ print $2 }' | tr '\n' ' ' || true)
fi
if [ "$SKIP_BUILD" != 1 ]; then
    log "building Assent (release, target/bench)"
    (cd "$SRC" && cargo build --release --target-dir "$ROOT/target/bench") \
        || die "Assent release build failed"
    log "building the baseline (release, target/baseline)"
    (cd "$ROOT" && cargo build --release --locked --manifest-path "$BASELINE_DIR/Cargo.toml" --target-dir "$ROOT/target/baseline") \
        || die "baseline release build failed"
    if [ "$HAVE_LIMIT" = 1 ]; then
        log "building limit (release, target/limit)"
        (cd "$ROOT" && cargo build --release --manifest-path "$LIMIT_DIR/Cargo.toml" --target-dir "$ROOT/target/limit") \
            || die "limit release build failed"
    fi
fi
[ -x "$ASSENT_BIN" ] || die "$ASSENT_BIN missing"
[ -x "$BASELINE_BIN" ] || die "$BASELINE_BIN missing"
[ "$HAVE_LIMIT" = 0 ] || [ -x "$LIMIT_BIN" ] || die "$LIMIT_BIN missing"
ASSENT_CONFIG_FILE=$SRC/assent.toml

# ---------------------------------------------------------------- fresh state
rm -rf "$OUT"
mkdir -p "$OUT"
for db in "${DBS[@]}"; do
    psql "$PG_BASE/postgres" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    psql "$PG_BASE/postgres" -qAtc "CREATE DATABASE $db" >/dev/null
done
DBS_CREATED=1
MASTER_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

wait_http() { # name pid url seconds
    local name=$1 pid=$2 url=$3 limit=$4 start
    start=$(date +%s.%N)
    for _ in $(seq 1 $((limit * 10))); do
        kill -0 "$pid" 2>/dev/null || { tail -20 "$OUT/$name.log" >&2; die "$name exited during start-up"; }
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 200 ]; then
            awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
            return 0
        fi
        sleep 0.1
    done
    tail -20 "$OUT/$name.log" >&2
    die "$name did not answer $url within ${limit}s"
}

start_assent() { # name port database_url -> sets LAST_PID
    local name=$1 port=$2 url=$3
    mkdir -p "$WORK/$name"
    env -u ASSENT_BASE_URL -u ASSENT_WORKERS -u ASSENT_DB_POOL -u ASSENT_LOG_FORMAT \
        ASSENT_DATABASE_URL="$url" ASSENT_BIND="127.0.0.1:$port" ASSENT_DATA_DIR="$WORK/$name" \
        ASSENT_CONFIG="$ASSENT_CONFIG_FILE" ASSENT_MASTER_KEY="$MASTER_KEY" ASSENT_LOG=warn \
        ASSENT_SUBMISSIONS_PER_MINUTE=0 \
        "$ASSENT_BIN" serve >"$OUT/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

log "starting the baseline$([ "$HAVE_LIMIT" = 1 ] && echo ", limit") and two Assent servers"
mkdir -p "$WORK/baseline-sqlite"
env -u BASELINE_WORKERS -u PG_POOL -u GROUP_MAX \
    BASELINE_BIND="127.0.0.1:$BASELINE_PORT" BASELINE_SQLITE_DIR="$WORK/baseline-sqlite" DATABASE_URL="$PG_BASE/$BASELINE_DB" \
    "$BASELINE_BIN" >"$OUT/baseline.log" 2>&1 &
BASELINE_PID=$!
PIDS+=("$BASELINE_PID")
START_BASELINE=$(wait_http baseline "$BASELINE_PID" "http://127.0.0.1:$BASELINE_PORT/hello" 60)
LIMIT_PID=""
START_LIMIT="-"
if [ "$HAVE_LIMIT" = 1 ]; then
    mkdir -p "$WORK/limit-sqlite"
    env -u LIMIT_WORKERS -u PG_POOL -u GROUP_MAX -u GROUP_SYNC \
        LIMIT_BIND="127.0.0.1:$LIMIT_PORT" LIMIT_SQLITE_DIR="$WORK/limit-sqlite" DATABASE_URL="$PG_BASE/$LIMIT_DB" \
        "$LIMIT_BIN" >"$OUT/limit.log" 2>&1 &
    LIMIT_PID=$!
    PIDS+=("$LIMIT_PID")
    START_LIMIT=$(wait_http limit "$LIMIT_PID" "http://127.0.0.1:$LIMIT_PORT/hello" 60)
fi

start_assent assent-sqlite "$ASSENT_SQLITE_PORT" "sqlite://$WORK/assent-sqlite/assent.db"
SQLITE_PID=$LAST_PID
START_SQLITE=$(wait_http assent-sqlite "$SQLITE_PID" "http://127.0.0.1:$ASSENT_SQLITE_PORT/healthz" 120)
start_assent assent-pg "$ASSENT_PG_PORT" "$PG_BASE/$ASSENT_DB"
PG_PID=$LAST_PID
START_PG=$(wait_http assent-pg "$PG_PID" "http://127.0.0.1:$ASSENT_PG_PORT/healthz" 120)
log "ready: baseline ${START_BASELINE}s$([ "$HAVE_LIMIT" = 1 ] && echo ", limit ${START_LIMIT}s"), assent-sqlite ${START_SQLITE}s, assent-pg ${START_PG}s"

AS=http://127.0.0.1:$ASSENT_SQLITE_PORT
AP=http://127.0.0.1:$ASSENT_PG_PORT
BL=http://127.0.0.1:$BASELINE_PORT
LM=http://127.0.0.1:$LIMIT_PORT
FORM_LUA=$BENCH_DIR/newsletter.lua
JSON_LUA=$BENCH_DIR/newsletter_json.lua
CONSENTS_LUA=$BENCH_DIR/consents.lua
REF_LUA=$BASELINE_DIR/submit.lua # the same body as limit's submit.lua: both references get the same load

# ---------------------------------------------------------------- pre-flight: each endpoint answers as expected
expect() { # want-status description curl-args...
    local want=$1 what=$2 got
    shift 2
    got=$(curl -s -o "$OUT/preflight.body" -w '%{http_code}' "$@")
    [ "$got" = "$want" ] || { head -c 600 "$OUT/preflight.body" >&2; echo >&2; die "pre-flight: $what answered $got, expected $want"; }
}
FORM_BODY='email=preflight%40example.com&name=Jane&phone=010-1234-5678&purpose=service&purpose=marketing_email&purpose=marketing_sms&purpose=personalisation'
JSON_BODY='{"fields":{"email":"preflight.json@example.com","name":"Jane","phone":"010-1234-5678"},"purposes":["service","marketing_email","marketing_sms","personalisation"],"locale":"en"}'
REF_BODY='form_id=contact-2024&name=Jane&email=preflight%40example.com&phone=1&company=X&country=GB&message=hi&consent_marketing=on&policy_version=2024-01'
for base in "$AS" "$AP"; do
    expect 200 "GET $base/f/newsletter" "$base/f/newsletter"
    expect 303 "POST $base/f/newsletter" -H 'content-type: application/x-www-form-urlencoded' --data "$FORM_BODY" "$base/f/newsletter"
    expect 201 "POST $base/api/v1/forms/newsletter/submissions" -H 'content-type: application/json' --data "$JSON_BODY" "$base/api/v1/forms/newsletter/submissions"
done
REF_BASES=("$BL")
[ "$HAVE_LIMIT" = 1 ] && REF_BASES+=("$LM")
for base in "${REF_BASES[@]}"; do
    expect 200 "GET $base/form" "$base/form"
    for ep in submit-sqlite-group submit-sqlite-full submit-pg; do
        expect 201 "POST $base/$ep" -H 'content-type: application/x-www-form-urlencoded' --data "$REF_BODY" "$base/$ep"
    done
    expect 200 "GET $base/hello" "$base/hello"
done

# For the reading paths: SEED people (seed.<n>@example.com) to look up, an API key on each server, and
# a preference-center session (signed in through the e-mailed link, as a person would).
SEED=${SEED:-200}
assent_cli() { # name database_url args...
    local name=$1 url=$2
    shift 2
    ASSENT_DATABASE_URL=$url ASSENT_DATA_DIR=$WORK/$name ASSENT_CONFIG=$ASSENT_CONFIG_FILE ASSENT_MASTER_KEY=$MASTER_KEY \
        ASSENT_LOG=warn "$ASSENT_BIN" "$@"
}
seed_people() { # base
    local n
    for n in $(seq 1 "$SEED"); do
        expect 201 "seeding person $n" -H 'content-type: application/json' \
            --data "{\"fields\":{\"email\":\"seed.$n@example.com\",\"name\":\"Seed $n\",\"phone\":\"010-1234-5678\"},\"purposes\":[\"service\",\"marketing_sms\",\"personalisation\"]}" \
            "$1/api/v1/forms/newsletter/submissions"
    done
}
me_cookie() { # name base -> "assent_session=…"
    local name=$1 base=$2 mail token cookie
    expect 200 "POST $base/me (sign-in link)" -H 'content-type: application/x-www-form-urlencoded' --data 'email=seed.1%40example.com' "$base/me"
    for _ in $(seq 1 100); do
        mail=$(grep -l 'seed.1@example.com' "$WORK/$name"/outbox/* 2>/dev/null | xargs -r grep -l '/me/login' | head -1 || true)
        [ -n "$mail" ] && break
        sleep 0.1
    done
    [ -n "$mail" ] || die "pre-flight: no sign-in mail for seed.1@example.com in $WORK/$name/outbox"
    token=$(python3 -c 'import quopri, re, sys; t = quopri.decodestring(open(sys.argv[1], "rb").read()).decode("utf-8", "replace"); print(re.search(r"/me/login\?token=([A-Za-z0-9_.=-]+)", t).group(1))' "$mail") \
        || die "pre-flight: no sign-in link in $mail"
    cookie=$(curl -s -o /dev/null -D - --data "token=$token" "$base/me/login" | tr -d '\r' | awk -F'[: ;]+' 'tolower($1) == "set-cookie" { print $2; exit }')
    [ -n "$cookie" ] || die "pre-flight: signing in at $base/me/login set no cookie"
    expect 200 "GET $base/me (signed in)" -H "Cookie: $cookie" "$base/me"
    echo "$cookie"
}
log "seeding $SEED people on each server for the reading paths"
seed_people "$AS"
seed_people "$AP"
KEY_SQLITE=$(assent_cli assent-sqlite "sqlite://$WORK/assent-sqlite/assent.db" key create --name bench) || die "cannot create an API key (SQLite)"
KEY_PG=$(assent_cli assent-pg "$PG_BASE/$ASSENT_DB" key create --name bench) || die "cannot create an API key (PostgreSQL)"
for pair in "$AS $KEY_SQLITE" "$AP $KEY_PG"; do
    read -r base key <<<"$pair"
    expect 200 "GET $base/api/v1/consents" -H "Authorization: Bearer $key" "$base/api/v1/consents?email=seed.2%40example.com"
    grep -q '"status":"granted"' "$OUT/preflight.body" || die "pre-flight: the consent check did not find seed.2"
done
COOKIE_SQLITE=$(me_cookie assent-sqlite "$AS")
COOKIE_PG=$(me_cookie assent-pg "$AP")
log "pre-flight ok"

# ---------------------------------------------------------------- measuring
# Scenarios: key|side|server pid|url|script|description|script arguments after the run tag|connections
# (CONNECTIONS when empty). A "mix" scenario is several of them loaded at once, by wrk processes started
# together for the same duration; its seventh field names them.
SCEN=(
    "a-form-sqlite|assent|$SQLITE_PID|$AS/f/newsletter|$FORM_LUA|Assent POST /f/newsletter, SQLite"
    "a-form-pg|assent|$PG_PID|$AP/f/newsletter|$FORM_LUA|Assent POST /f/newsletter, PostgreSQL"
    "a-get|assent|$SQLITE_PID|$AS/f/newsletter||Assent GET /f/newsletter"
    "a-json-sqlite|assent|$SQLITE_PID|$AS/api/v1/forms/newsletter/submissions|$JSON_LUA|Assent POST /api/v1/forms/newsletter/submissions (JSON), SQLite"
    "a-json-pg|assent|$PG_PID|$AP/api/v1/forms/newsletter/submissions|$JSON_LUA|Assent POST /api/v1/forms/newsletter/submissions (JSON), PostgreSQL"
    "a-consents-sqlite|assent|$SQLITE_PID|$AS/api/v1/consents|$CONSENTS_LUA|Assent GET /api/v1/consents?email=…, SQLite|$KEY_SQLITE $SEED"
    "a-consents-pg|assent|$PG_PID|$AP/api/v1/consents|$CONSENTS_LUA|Assent GET /api/v1/consents?email=…, PostgreSQL|$KEY_PG $SEED"
    "a-bulk-sqlite|assent|$SQLITE_PID|$AS/api/v1/consents/query|$BENCH_DIR/bulk.lua|Assent POST /api/v1/consents/query (100 people each), SQLite|$KEY_SQLITE $SEED"
    "a-bulk-pg|assent|$PG_PID|$AP/api/v1/consents/query|$BENCH_DIR/bulk.lua|Assent POST /api/v1/consents/query (100 people each), PostgreSQL|$KEY_PG $SEED"
    "a-me-sqlite|assent|$SQLITE_PID|$AS/me|$BENCH_DIR/me.lua|Assent GET /me (signed in), SQLite|$COOKIE_SQLITE"
    "a-me-pg|assent|$PG_PID|$AP/me|$BENCH_DIR/me.lua|Assent GET /me (signed in), PostgreSQL|$COOKIE_PG"
    # the mixed loads and, for comparison, the JSON signups alone with as many connections as in the mix
    "a-json16-sqlite|assent|$SQLITE_PID|$AS/api/v1/forms/newsletter/submissions|$JSON_LUA|Assent JSON API alone, $MIX_SIGNUP_CONNECTIONS connections, SQLite||$MIX_SIGNUP_CONNECTIONS"
    "a-json16-pg|assent|$PG_PID|$AP/api/v1/forms/newsletter/submissions|$JSON_LUA|Assent JSON API alone, $MIX_SIGNUP_CONNECTIONS connections, PostgreSQL||$MIX_SIGNUP_CONNECTIONS"
    "a-mix-sqlite|mix|$SQLITE_PID|||Assent mixed load, SQLite|a-mixc-sqlite a-mixs-sqlite"
    "a-mixc-sqlite|assent|$SQLITE_PID|$AS/api/v1/consents|$CONSENTS_LUA|Assent consent checks in the mixed load, SQLite|$KEY_SQLITE $SEED|$MIX_CONSENT_CONNECTIONS"
    "a-mixs-sqlite|assent|$SQLITE_PID|$AS/api/v1/forms/newsletter/submissions|$JSON_LUA|Assent JSON signups in the mixed load, SQLite||$MIX_SIGNUP_CONNECTIONS"
    "a-mix-pg|mix|$PG_PID|||Assent mixed load, PostgreSQL|a-mixc-pg a-mixs-pg"
    "a-mixc-pg|assent|$PG_PID|$AP/api/v1/consents|$CONSENTS_LUA|Assent consent checks in the mixed load, PostgreSQL|$KEY_PG $SEED|$MIX_CONSENT_CONNECTIONS"
    "a-mixs-pg|assent|$PG_PID|$AP/api/v1/forms/newsletter/submissions|$JSON_LUA|Assent JSON signups in the mixed load, PostgreSQL||$MIX_SIGNUP_CONNECTIONS"
)
# The references' endpoints: b-<endpoint> on the baseline, l-<endpoint> on limit (when it runs).
REFS=(b)
[ "$HAVE_LIMIT" = 1 ] && REFS+=(l)
for ref in "${REFS[@]}"; do
    if [ "$ref" = b ]; then side=baseline; pid=$BASELINE_PID; base=$BL; else side=limit; pid=$LIMIT_PID; base=$LM; fi
    SCEN+=(
        "$ref-sqlite-group|$side|$pid|$base/submit-sqlite-group|$REF_LUA|$side POST /submit-sqlite-group"
        "$ref-sqlite-full|$side|$pid|$base/submit-sqlite-full|$REF_LUA|$side POST /submit-sqlite-full"
        "$ref-pg|$side|$pid|$base/submit-pg|$REF_LUA|$side POST /submit-pg"
        "$ref-form|$side|$pid|$base/form||$side GET /form"
        "$ref-hello|$side|$pid|$base/hello||$side GET /hello"
    )
done
scen() { # key field(1-based over key|side|pid|url|script|desc|args|connections)
    local s
    for s in "${SCEN[@]}"; do
        if [ "${s%%|*}" = "$1" ]; then echo "$s" | cut -d'|' -f"$2"; return; fi
    done
    die "unknown scenario $1"
}
# The wrk loads of a scenario: itself, or the parts of a mix.
parts() { if [ "$(scen "$1" 2)" = mix ]; then scen "$1" 7; else echo "$1"; fi; }
# Comparisons, each measured as one group of loads back to back in every round:
#   row|Assent scenario|reference endpoint|title|more Assent scenarios in the group
# The group loads the Assent scenario, the others named, then the reference endpoint on the baseline
# (b-…) and on limit (l-…, when it runs). "=" rows (context) reuse the Assent run of the row before them
# in the same round. mix-* rows are reported in their own table.
PAIRS=(
    "form-sqlite|a-form-sqlite|sqlite-group|POST /f/newsletter, SQLite FULL vs /submit-sqlite-group"
    "form-sqlite-full|=|sqlite-full|(context) same Assent run vs /submit-sqlite-full (1 tx per submission)"
    "form-pg|a-form-pg|pg|POST /f/newsletter, PostgreSQL vs /submit-pg"
    "get|a-get|form|GET /f/newsletter vs GET /form"
    "json-sqlite|a-json-sqlite|sqlite-group|JSON API, SQLite FULL vs /submit-sqlite-group"
    "json-pg|a-json-pg|pg|JSON API, PostgreSQL vs /submit-pg"
    "consents-sqlite|a-consents-sqlite|hello|consent check GET /api/v1/consents, SQLite vs GET /hello"
    "consents-pg|a-consents-pg|hello|consent check GET /api/v1/consents, PostgreSQL vs GET /hello"
    "bulk-sqlite|a-bulk-sqlite|hello|(context) bulk check, 100 people per request (lookups/s = req/s x 100), SQLite vs GET /hello"
    "bulk-pg|a-bulk-pg|hello|(context) bulk check, 100 people per request (lookups/s = req/s x 100), PostgreSQL vs GET /hello"
    "me-sqlite|a-me-sqlite|form|preference center GET /me (signed in), SQLite vs GET /form"
    "me-pg|a-me-pg|form|preference center GET /me (signed in), PostgreSQL vs GET /form"
    "mix-sqlite|a-mix-sqlite|hello|mixed load, SQLite|a-json16-sqlite"
    "mix-pg|a-mix-pg|hello|mixed load, PostgreSQL|a-json16-pg"
)
# ONLY="mix-pg json-pg": measure only these rows (with the "=" rows that follow them): a quick
# A/B, not a full run (write it elsewhere: RESULTS=bench/out/only.md).
if [ -n "${ONLY:-}" ]; then
    kept=() keep=0
    for pair in "${PAIRS[@]}"; do
        if [ "$(echo "$pair" | cut -d'|' -f2)" != "=" ]; then
            keep=0
            for only in $ONLY; do [ "$only" = "${pair%%|*}" ] && keep=1; done
        fi
        [ "$keep" = 1 ] && kept+=("$pair")
    done
    [ "${#kept[@]}" -gt 0 ] || die "ONLY=$ONLY names no row"
    PAIRS=("${kept[@]}")
fi
# The target of each comparison (rows without one are context), and whether its p99 is held to
# P99_FACTOR times the reference's.
row_target() {
    case $1 in
        form-sqlite|json-sqlite) echo "$SQLITE_TARGET" ;;
        form-pg|json-pg) echo "$PG_TARGET" ;;
        get) echo "$GET_TARGET" ;;
        consents-*) echo "$CONSENT_TARGET" ;;
        me-sqlite) echo "$ME_SQLITE_TARGET" ;;
        me-pg) echo "$ME_PG_TARGET" ;;
        mix-consents-*) echo "$MIX_CONSENT_TARGET" ;;
        mix-signups-*) echo "$MIX_SIGNUP_TARGET" ;;
        *) echo "" ;;
    esac
}
p99_bound() { case $1 in form-sqlite|form-pg|json-sqlite|json-pg) return 0 ;; *) return 1 ;; esac; }

to_ms() { # wrk latency like 850.00us 1.23ms 2.01s 1.50m -> ms
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}

# parse wrk output -> "rps p50 p99 requests non2xx3xx socket_errors"
parse_wrk() {
    local f=$1 rps p50 p99 reqs non sock
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
    p50=$(awk '$1 == "50%" { print $2 }' "$f")
    p99=$(awk '$1 == "99%" { print $2 }' "$f")
    reqs=$(awk '/requests in/ { print $1 }' "$f")
    non=$(awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); print $2 }' "$f")
    sock=$(awk '/Socket errors/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$f")
    # shellcheck disable=SC2015 # any of them missing
    [ -n "$rps" ] && [ -n "$p50" ] && [ -n "$p99" ] || die "could not parse $f"
    echo "$rps $(to_ms "$p50") $(to_ms "$p99") ${reqs:-0} ${non:-0} ${sock:-0}"
}

# CPU ticks (utime+stime) summed by name: threads of one process, or every process on the machine.
ticks_by_name() { # stat files... -> "name ticks"
    awk '{ c = $0; sub(/^[^(]*\(/, "", c); sub(/\)[^)]*$/, "", c); gsub(/[ \t]/, "_", c)
           r = $0; sub(/^.*\) /, "", r); split(r, f, " "); s[c] += f[12] + f[13] }
         END { for (k in s) print k, s[k] }' < <(cat "$@" 2>/dev/null) | sort
}
cpu_delta() { # before-file after-file seconds -> table, biggest first
    { awk '{ print $1, -$2 }' "$1"; cat "$2"; } | awk -v hz="$(getconf CLK_TCK)" -v d="$3" \
        '{ s[$1] += $2 } END { for (k in s) if (s[k] > 0) printf "%-28s %7.2f s CPU in %ss = %4.0f%% of one core\n", k, s[k] / hz, d, 100 * s[k] / hz / d }' \
        | sort -k2 -gr
}
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; } # busy idle+iowait
# Ticks spent in user+system by every process, and by the processes this benchmark is about (Assent,
# the baseline, limit, PostgreSQL, kernel threads); the difference, less wrk's own time, is someone else's load.
cpu_snapshot() {
    local bench
    bench=$(awk '{ c = $0; sub(/^[^(]*\(/, "", c); sub(/\)[^)]*$/, "", c)
                  r = $0; sub(/^.*\) /, "", r); split(r, f, " ")
                  if (c == "assent" || c == "baseline" || c == "limit" || c == "postgres" || f[2] == 2) s += f[12] + f[13] }
                END { print s + 0 }' < <(cat /proc/[0-9]*/stat 2>/dev/null))
    echo "$(awk '/^cpu / { print $2 + $3 + $4 }' /proc/stat) $bench"
}
# Busy CPU over one second, in % of one core.
busy_now() {
    local a b
    a=$(busy_ticks); sleep 1; b=$(busy_ticks)
    echo "$a $b" | awk -v n="$(nproc)" '{ b = $3 - $1; i = $4 - $2; if (b + i <= 0) print 999; else printf "%.0f", 100 * n * b / (b + i) }'
}
# Before each pair: wait (up to QUIET_WAIT s) until the machine is idle apart from us.
wait_quiet() {
    local busy waited=0
    while :; do
        busy=$(busy_now)
        [ "$busy" -le "$QUIET_MAX" ] && return 0
        if [ "$waited" -ge "$QUIET_WAIT" ]; then
            log "machine still busy (${busy}% of a core) after ${waited}s; measuring anyway"
            return 0
        fi
        [ "$waited" = 0 ] && log "machine busy (${busy}% of a core, not us); waiting for it to settle"
        sleep 4; waited=$((waited + 5))
    done
}
TSV=$OUT/results.tsv
DISCARDED=$OUT/discarded.tsv
printf 'round\tkey\trps\tp50_ms\tp99_ms\trequests\tnon2xx3xx\tsocket_errors\tother_cpu_pct\tpair\n' | tee "$DISCARDED" >"$TSV"
declare -A SENT # key -> requests counted by wrk (warm-up included), for the row-count check

run_wrk() { # out-file key duration extra-wrk-args...
    local f=$1 key=$2 dur=$3 url script script_args conns
    shift 3
    url=$(scen "$key" 4)
    script=$(scen "$key" 5)
    script_args=$(scen "$key" 7)
    conns=$(scen "$key" 8)
    local args=(-t"$THREADS" -c"${conns:-$CONNECTIONS}" -d"$dur" "$@")
    [ -n "$script" ] && args+=(-s "$script")
    local TIMEFORMAT='%U %S'
    # shellcheck disable=SC2086 # script_args are words on purpose
    { time wrk "${args[@]}" "$url" -- "$RUN_TAG" $script_args >"$f" 2>&1; } 2>"$f.cpu" || { cat "$f" >&2; die "wrk failed for $key"; }
}
# One load of a scenario: a wrk process per part (one, or those of a mix, started together); the output
# of part k goes to $OUT/k.<suffix>.txt.
run_load() { # suffix key duration extra-wrk-args...
    local suffix=$1 key=$2 dur=$3 k pid pids=()
    shift 3
    for k in $(parts "$key"); do
        run_wrk "$OUT/$k.$suffix.txt" "$k" "$dur" "$@" &
        pids+=("$!")
    done
    for pid in "${pids[@]}"; do wait "$pid" || die "a load of $key failed"; done
}
load_rps() { # suffix key -> "<req/s> req/s", or "<part>: <req/s> req/s, …" for a mix
    local k n=0 out=""
    for k in $(parts "$2"); do
        [ "$n" = 0 ] || out+=", "
        [ "$(parts "$2")" = "$2" ] || out+="$k: "
        out+="$(awk '/Requests\/sec/ { print $2 }' "$OUT/$k.$1.txt") req/s"
        n=$((n + 1))
    done
    echo "$out"
}

RUN_ID=$(date +%s)
LAST_OTHER=0
measure() { # round attempt key
    local round=$1 attempt=$2 key=$3 k line c0 c1 secs wrk_cpu
    # PostgreSQL here runs with autovacuum off (PG_AUTOVACUUM below), so nothing would ever analyse
    # the tables as the load grows them, and plans cached while they were empty (sequential scans)
    # would stay: stand in for autovacuum's ANALYZE before each PostgreSQL load, on every side.
    case $key in *pg*) for db in "${DBS[@]}"; do psql "$PG_BASE/$db" -qAtc ANALYZE >/dev/null 2>&1 || true; done ;; esac
    RUN_TAG="${RUN_ID}w${round}a${attempt}${key}"
    run_load "$PAIR_ROW.r$round.a$attempt.warmup" "$key" "$WARMUP"
    for k in $(parts "$key"); do
        SENT[$k]=$(( ${SENT[$k]:-0} + $(awk '/requests in/ { print $1 }' "$OUT/$k.$PAIR_ROW.r$round.a$attempt.warmup.txt") ))
    done
    sleep 0.5
    RUN_TAG="${RUN_ID}m${round}a${attempt}${key}"
    c0=$(cpu_snapshot)
    run_load "$PAIR_ROW.r$round.a$attempt" "$key" "$DURATION" --latency
    c1=$(cpu_snapshot)
    # wrk's own CPU time (all parts) and the longest part's duration
    wrk_cpu=0
    secs=0
    for k in $(parts "$key"); do
        wrk_cpu=$(awk -v s="$wrk_cpu" '{ print s + $1 + $2 }' "$OUT/$k.$PAIR_ROW.r$round.a$attempt.txt.cpu")
        secs=$(awk -v s="$secs" '/requests in/ { sub(/s,?$/, "", $4); print ($4 + 0 > s + 0) ? $4 + 0 : s + 0 }' "$OUT/$k.$PAIR_ROW.r$round.a$attempt.txt")
    done
    # CPU used by anything but Assent/the baseline/limit/PostgreSQL/kernel threads/wrk, in % of one core
    LAST_OTHER=$(echo "$c0 $c1 $wrk_cpu $secs" | awk -v hz="$(getconf CLK_TCK)" \
        '{ o = (($3 - $1) - ($4 - $2)) / hz - $5; if (o < 0) o = 0; printf "%.0f", 100 * o / $6 }')
    for k in $(parts "$key"); do
        line=$(parse_wrk "$OUT/$k.$PAIR_ROW.r$round.a$attempt.txt")
        SENT[$k]=$(( ${SENT[$k]} + $(echo "$line" | awk '{ print $4 }') ))
        printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$k" "$line" "$LAST_OTHER" "$PAIR_ROW" | tr ' ' '\t' >>"$TSV"
        log "round $round $k: $(echo "$line" | awk '{ printf "%s req/s, p50 %s ms, p99 %s ms, non-2xx/3xx %s, socket errors %s", $1, $2, $3, $5, $6 }'), other CPU ${LAST_OTHER}%"
    done
    sleep 0.5
}
# A group (or a lone context run) is redone when someone else's load took more than OTHER_MAX % of a
# core during one of its runs; RETRIES redos in all.
RETRIES_LEFT=$RETRIES
measure_pair() { # round key... (in order)
    local round=$1 attempt=0 worst k kept
    shift
    while :; do
        wait_quiet
        worst=0
        kept=$(wc -l <"$TSV")
        for k in "$@"; do
            measure "$round" "$attempt" "$k"
            [ "$LAST_OTHER" -gt "$worst" ] && worst=$LAST_OTHER
        done
        if [ "$worst" -le "$OTHER_MAX" ] || [ "$RETRIES_LEFT" -le 0 ]; then
            [ "$worst" -gt "$OTHER_MAX" ] && log "keeping a disturbed measurement (no retries left)"
            return 0
        fi
        log "someone else used ${worst}% of a core during this group; measuring it again"
        tail -n +"$((kept + 1))" "$TSV" >>"$DISCARDED"
        head -n "$kept" "$TSV" >"$TSV.tmp" && mv "$TSV.tmp" "$TSV"
        RETRIES_LEFT=$((RETRIES_LEFT - 1))
        attempt=$((attempt + 1))
    done
}
# The loads of a comparison in measuring order: Assent's first in odd rounds, last in even ones.
group_keys() { # round pair-spec
    local row akey ref extra keys=() r i
    IFS='|' read -r row akey ref _ extra <<<"$2"
    [ "$akey" = "=" ] || keys+=("$akey")
    # shellcheck disable=SC2206 # extra is a list of scenario keys
    keys+=($extra)
    for r in "${REFS[@]}"; do keys+=("$r-$ref"); done
    if [ $(($1 % 2)) = 1 ]; then
        echo "${keys[*]}"
    else
        for ((i = ${#keys[@]} - 1; i >= 0; i--)); do printf '%s ' "${keys[$i]}"; done
        echo
    fi
}

T0=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
    for pair in "${PAIRS[@]}"; do
        PAIR_ROW=${pair%%|*}
        # shellcheck disable=SC2046 # a list of scenario keys
        measure_pair "$round" $(group_keys "$round" "$pair")
    done
done
T1=$(date +%s)
log "measurements done in $((T1 - T0))s"

# ---------------------------------------------------------------- summarising
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# A reference endpoint is measured in several groups of a round (e.g. /submit-pg beside the form and the
# JSON path), so each value is taken from its own group.
col() { # key column(3=rps 4=p50 5=p99 7=non2xx 8=sock) round-or-empty pair
    awk -F'\t' -v k="$1" -v c="$2" -v r="${3:-}" -v p="$4" 'NR > 1 && $2 == k && $10 == p && (r == "" || $1 == r) { print $c }' "$TSV"
}
sum_col() { col "$1" "$2" "" "$3" | awk '{ s += $1 } END { print s + 0 }'; }
errors() { # pair key... -> non-2xx/3xx + socket errors over the recorded runs of these scenarios
    local p=$1 k n=0
    shift
    for k in "$@"; do n=$((n + $(sum_col "$k" 7 "$p") + $(sum_col "$k" 8 "$p"))); done
    echo "$n"
}
fmt() { awk -v v="$1" 'BEGIN { if (v == "nan" || v == "") print "n/a"; else printf "%.0f", v }'; }
fmt2() { awk -v v="$1" 'BEGIN { if (v == "nan" || v == "") print "n/a"; else printf "%.2f", v }'; }
med() { col "$1" "$2" "" "$3" | median; } # key column pair -> median over rounds
# The ratio of req/s of two scenarios in each round; sets R_MED and R_CELL ("**median** (min–max)").
R_MED=nan
R_CELL=n/a
ratio_stats() { # key pair reference-key reference-pair
    local r a b ratios=""
    for r in $(seq 1 "$ROUNDS"); do
        a=$(col "$1" 3 "$r" "$2"); b=$(col "$3" 3 "$r" "$4")
        [ -n "$a" ] && [ -n "$b" ] && ratios+="$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }')"$'\n'
    done
    R_MED=$(printf '%s' "$ratios" | grep -v nan | median)
    R_CELL="**$(fmt2 "$R_MED")** ($(fmt2 "$(printf '%s' "$ratios" | grep -v nan | sort -g | head -1)")–$(fmt2 "$(printf '%s' "$ratios" | grep -v nan | sort -g | tail -1)"))"
}
meets() { awk -v v="$1" -v t="$2" 'BEGIN { print (v != "nan" && v >= t) ? "yes" : "**no**" }'; }
# Assent scenarios short of a target or of the p99 bound (profiled below)
declare -A SHORT
summary_rows() {
    local pair row arow akey ref title prev_akey="" prev_row="" target pass p99 errs b_cell l_cell="–" l_rps="–" l_p99="–" verdict ap99 rp99 ref_key lk
    for pair in "${PAIRS[@]}"; do
        IFS='|' read -r row akey ref title _ <<<"$pair"
        case $row in mix-*) continue ;; esac
        arow=$row
        if [ "$akey" = "=" ]; then akey=$prev_akey; arow=$prev_row; fi
        prev_akey=$akey
        prev_row=$arow
        target=$(row_target "$row")
        pass="(context)"
        p99="–"
        ap99=$(med "$akey" 5 "$arow")
        for ref_key in "${REFS[@]/%/-$ref}"; do
            ratio_stats "$akey" "$arow" "$ref_key" "$row"
            rp99=$(med "$ref_key" 5 "$row")
            if [ "${ref_key%%-*}" = b ]; then
                b_cell=$R_CELL
            else
                l_cell=$R_CELL; l_rps=$(fmt "$(med "$ref_key" 3 "$row")"); l_p99=$(fmt2 "$rp99")
            fi
            lk=""
            [ "${ref_key%%-*}" = l ] && lk="limit: "
            if [ -n "$target" ]; then
                verdict=$(meets "$R_MED" "$target")
                [ "$verdict" = yes ] || SHORT[$akey]=1
                if [ -z "$lk" ]; then pass="≥ $target: $verdict"; else pass+=" ($lk$verdict)"; fi
            fi
            if p99_bound "$row"; then
                verdict=$(awk -v a="$ap99" -v r="$rp99" -v f="$P99_FACTOR" 'BEGIN { print (a != "nan" && r != "nan" && a <= f * r) ? "yes" : "**no**" }')
                [ "$verdict" = yes ] || SHORT[$akey]=1
                if [ -z "$lk" ]; then p99=$verdict; else p99+=" ($lk$verdict)"; fi
            fi
        done
        # shellcheck disable=SC2068 # a list of scenario keys
        errs=$(( $(errors "$arow" "$akey") + $(errors "$row" ${REFS[@]/%/-$ref}) ))
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$title" \
            "$(fmt "$(med "$akey" 3 "$arow")")" "$(fmt2 "$(med "$akey" 4 "$arow")")" "$(fmt2 "$ap99")" \
            "$(fmt "$(med "b-$ref" 3 "$row")")" "$(fmt2 "$(med "b-$ref" 5 "$row")")" "$b_cell" \
            "$l_rps" "$l_p99" "$l_cell" "$pass" "$p99" "$errs"
    done
}
# Mixed loads: the consent checks against the references' GET /hello alone, the signups against
# Assent's own JSON signups alone (same connections), all of the same round and group.
mix_rows() {
    local pair row be name akey c s solo errs l_cell pass verdict
    for pair in "${PAIRS[@]}"; do
        IFS='|' read -r row akey _ _ _ <<<"$pair"
        case $row in mix-*) ;; *) continue ;; esac
        be=${row#mix-}
        if [ "$be" = pg ]; then name=PostgreSQL; else name=SQLite; fi
        c=a-mixc-$be; s=a-mixs-$be; solo=a-json16-$be
        # consent checks
        ratio_stats "$c" "$row" b-hello "$row"
        verdict=$(meets "$R_MED" "$MIX_CONSENT_TARGET")
        [ "$verdict" = yes ] || SHORT[$akey]=1
        pass="≥ $MIX_CONSENT_TARGET: $verdict"
        local b_cell=$R_CELL
        l_cell="–"
        if [ "$HAVE_LIMIT" = 1 ]; then
            ratio_stats "$c" "$row" l-hello "$row"
            l_cell=$R_CELL
            verdict=$(meets "$R_MED" "$MIX_CONSENT_TARGET")
            [ "$verdict" = yes ] || SHORT[$akey]=1
            pass+=" (limit: $verdict)"
        fi
        # shellcheck disable=SC2068 # a list of scenario keys
        errs=$(errors "$row" "$c" "$s" ${REFS[@]/%/-hello})
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
            "consent checks, $MIX_CONSENT_CONNECTIONS connections, $name" \
            "$(fmt "$(med "$c" 3 "$row")")" "$(fmt2 "$(med "$c" 4 "$row")")" "$(fmt2 "$(med "$c" 5 "$row")")" \
            "baseline GET /hello, $CONNECTIONS connections" "$(fmt "$(med b-hello 3 "$row")")" "$b_cell" "$l_cell" "$pass" "$errs"
        # new signups
        ratio_stats "$s" "$row" "$solo" "$row"
        verdict=$(meets "$R_MED" "$MIX_SIGNUP_TARGET")
        [ "$verdict" = yes ] || SHORT[$akey]=1
        errs=$(errors "$row" "$c" "$s" "$solo")
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
            "new signups (JSON API), $MIX_SIGNUP_CONNECTIONS connections, $name" \
            "$(fmt "$(med "$s" 3 "$row")")" "$(fmt2 "$(med "$s" 4 "$row")")" "$(fmt2 "$(med "$s" 5 "$row")")" \
            "Assent JSON API, $MIX_SIGNUP_CONNECTIONS connections" "$(fmt "$(med "$solo" 3 "$row")")" "$R_CELL" "–" \
            "≥ $MIX_SIGNUP_TARGET: $verdict" "$errs"
    done
}
# not in a subshell: they fill SHORT
summary_rows >"$OUT/summary.md"
mix_rows >"$OUT/mix.md"

# ---------------------------------------------------------------- integrity checks after the load
count_sqlite() { if command -v sqlite3 >/dev/null; then sqlite3 "$1" "$2" 2>/dev/null || echo "?"; else echo "(no sqlite3)"; fi; }
ROWS_SQLITE=$(count_sqlite "$WORK/assent-sqlite/assent.db" 'select count(*) from submissions')
ROWS_PG=$(psql "$PG_BASE/$ASSENT_DB" -qAtc 'select count(*) from submissions' 2>/dev/null || echo "?")
SENT_SQLITE=$(( ${SENT[a-form-sqlite]:-0} + ${SENT[a-json-sqlite]:-0} + ${SENT[a-json16-sqlite]:-0} + ${SENT[a-mixs-sqlite]:-0} + 2 + SEED ))
SENT_PG=$(( ${SENT[a-form-pg]:-0} + ${SENT[a-json-pg]:-0} + ${SENT[a-json16-pg]:-0} + ${SENT[a-mixs-pg]:-0} + 2 + SEED ))
verify_ledger() { # name database_url
    ASSENT_DATABASE_URL=$2 ASSENT_DATA_DIR=$WORK/$1 ASSENT_CONFIG=$ASSENT_CONFIG_FILE ASSENT_MASTER_KEY=$MASTER_KEY \
        ASSENT_LOG=warn timeout 300 "$ASSENT_BIN" ledger verify >"$OUT/$1.verify.txt" 2>&1 && echo "ok" || echo "FAILED (exit $?, see bench/out/$1.verify.txt)"
}
VERIFY_SQLITE=$(verify_ledger assent-sqlite "sqlite://$WORK/assent-sqlite/assent.db")
VERIFY_PG=$(verify_ledger assent-pg "$PG_BASE/$ASSENT_DB")
LOGLINES_SQLITE=$(grep -c . "$OUT/assent-sqlite.log" || true)
LOGLINES_PG=$(grep -c . "$OUT/assent-pg.log" || true)
LOGLINES_BASELINE=$(grep -c . "$OUT/baseline.log" || true)
LOGLINES_LIMIT="-"
[ "$HAVE_LIMIT" = 1 ] && LOGLINES_LIMIT=$(grep -c . "$OUT/limit.log" || true)

# ---------------------------------------------------------------- profiling (scenarios below target)
PROFILED=()
profile() { # key
    local key=$1 pid dur=8 f=$OUT/profile-$1
    pid=$(scen "$key" 3)
    command -v perf >/dev/null || apt_install linux-perf
    wait_quiet
    log "profiling $key (pid $pid)"
    # 1) where the machine's CPU goes under a normal (unprofiled) load: per process and per Assent thread
    RUN_TAG="${RUN_ID}p1$key"
    run_load profile-plain "$key" "$((dur + 2))s" --latency &
    local wrk_pid=$!
    sleep 1
    ticks_by_name /proc/[0-9]*/stat >"$f.procs.before"; ticks_by_name /proc/"$pid"/task/*/stat >"$f.threads.before"
    local b0 b1
    b0=$(busy_ticks)
    sleep "$dur"
    ticks_by_name /proc/[0-9]*/stat >"$f.procs.after"; ticks_by_name /proc/"$pid"/task/*/stat >"$f.threads.after"
    b1=$(busy_ticks)
    wait "$wrk_pid"
    cpu_delta "$f.procs.before" "$f.procs.after" "$dur" | head -8 >"$f.procs.txt"
    cpu_delta "$f.threads.before" "$f.threads.after" "$dur" >"$f.threads.txt"
    echo "$b0 $b1" | awk '{ b = $3 - $1; i = $4 - $2; if (b + i > 0) printf "machine busy %.0f%% (%s cores)\n", 100 * b / (b + i), n }' n="$(nproc)" >>"$f.procs.txt"
    # 2) perf sampling of the Assent process (call graphs from DWARF; the release build has line tables)
    RUN_TAG="${RUN_ID}p2$key"
    perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$pid" -o "$OUT/perf-$key.data" -- sleep "$dur" \
        >"$OUT/perf-$key.record.txt" 2>&1 &
    local perf_pid=$!
    sleep 0.3
    run_load profile-perf "$key" "$((dur + 1))s"
    wait "$perf_pid" || true
    perf report -i "$OUT/perf-$key.data" --no-inline --stdio --no-children -g none --sort comm \
        2>/dev/null | grep -v '^#' | grep . | head -12 >"$f.comm.txt" || true
    perf report -i "$OUT/perf-$key.data" --no-inline --stdio --no-children -g none --sort dso,sym \
        2>/dev/null | grep -v '^#' | grep . | head -40 | cut -c1-150 >"$f.self.txt" || true
    # inclusive time of Assent's own functions and of the storage-engine steps they end up in
    perf report -i "$OUT/perf-$key.data" --no-inline --stdio --children -g none --sort sym 2>/dev/null | grep -v '^#' \
        | grep -E '^\s*[0-9.]+%\s+[0-9.]+%\s+\[.\]\s+(assent::[A-Za-z0-9_:]+|<assent::[^ ]+ as [^ ]+>::[a-z_]+|sqlite3_step|sqlite3_prepare_v[23]|sqlite3_exec|walCheckpoint|pagerStress|pagerWalFrames|unixSync|unixRead|unixWrite|sqlite3BtreeIndexMoveto|sqlite3BtreeInsert|[A-Za-z_:<> ]*commit_transaction|PQ(exec|getResult|sendQueryParams|sendQueryPrepared|prepare)|__libc_(send|recv|pread64|pwrite64)|askama::[A-Za-z_:]+|serde_json::[a-z_:]+|actix_http::h1::dispatcher::[A-Za-z_:]+)( \(inlined\))?\s*$' \
        | awk '!seen[$NF $(NF-1)]++' | head -45 | cut -c1-170 >"$f.children.txt" || true
    PROFILED+=("$key")
}
if [ "$PROFILE" != never ]; then
    for pair in "${PAIRS[@]}"; do
        IFS='|' read -r _ akey _ _ <<<"$pair"
        [ "$akey" = "=" ] && continue
        if [ "$PROFILE" = always ] || [ -n "${SHORT[$akey]:-}" ]; then profile "$akey"; fi
    done
fi

# ---------------------------------------------------------------- report
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
fs=$(df -PT "$WORK" | awk 'NR == 2 { print $2 " (" $1 ")" }')
pgver=$(psql "$PG_BASE/postgres" -qAtc 'show server_version' 2>/dev/null || echo "?")
PG_AUTOVACUUM=$(psql "$PG_BASE/postgres" -qAtc 'show autovacuum' 2>/dev/null || echo "?")
{
    echo "# Benchmark results: Assent vs the baseline$([ "$HAVE_LIMIT" = 1 ] && echo " and limit")"
    echo
    echo "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). Re-running the script overwrites this file;"
    echo "the *Analysis* section at the end is written by hand after a run."
    echo
    echo "- Assent commit: \`$GIT_COMMIT\`${GIT_DIRTY:+ (working tree had uncommitted changes in: $GIT_DIRTY)}"
    echo "- Baseline: \`bench/baseline\` of this working tree (release build, default profile; raw actix-web + diesel, the"
    echo "  same 5 rows per submission in one transaction, answered after the commit)"
    if [ "$HAVE_LIMIT" = 1 ]; then
        echo "- limit: \`$(realpath "$LIMIT_DIR")\` (release build, default profile)"
    else
        echo "- limit: not run (nothing at \`$LIMIT_DIR\`); its columns are empty"
    fi
    echo "- Machine: $(nproc) cores, $cpu_model, $mem RAM, kernel $(uname -r); temp dir (SQLite files) on $fs"
    echo "- $(rustc -V 2>/dev/null), PostgreSQL $pgver on 127.0.0.1:5432 (autovacuum $PG_AUTOVACUUM; the script runs ANALYZE on every"
    echo "  database before each PostgreSQL load in its place), $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')"
    echo "- Load: \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\`, each preceded by an unrecorded ${WARMUP} warm-up;"
    echo "  one load at a time on the same 2 cores as the servers (wrk competes with them for CPU, equally on every side)."
    echo "  $ROUNDS rounds; in each round every comparison is a group of loads back to back (Assent, the baseline, limit in"
    echo "  odd rounds; the reverse in even ones). Every submission carries a new e-mail address (bench/newsletter.lua,"
    echo "  bench/newsletter_json.lua; bench/baseline/submit.lua, the same body as limit's submit.lua, for the references);"
    echo "  reads use bench/consents.lua and bench/me.lua."
    echo "- Mixed load, per backend: \`wrk -t$THREADS -c$MIX_CONSENT_CONNECTIONS\` of consent checks (bench/consents.lua) and"
    echo "  \`wrk -t$THREADS -c$MIX_SIGNUP_CONNECTIONS\` of new signups (bench/newsletter_json.lua), started together for $DURATION;"
    echo "  in the same group, Assent's JSON signups alone with $MIX_SIGNUP_CONNECTIONS connections and the references' GET /hello."
    echo "- Servers: Assent \`serve\` with defaults (workers = cores, read pool 8, one writer thread with group commit),"
    echo "  SQLite WAL + synchronous=FULL, and a second instance on PostgreSQL; the baseline$([ "$HAVE_LIMIT" = 1 ] && echo " and limit") with defaults"
    echo "  (workers = cores, PG pool 16, GROUP_MAX 256). Start-up to first healthy answer: Assent SQLite ${START_SQLITE}s,"
    echo "  Assent PG ${START_PG}s, baseline ${START_BASELINE}s$([ "$HAVE_LIMIT" = 1 ] && echo ", limit ${START_LIMIT}s")."
    echo "- Request bodies: Assent form ~190 bytes (4 purposes, email + name + phone); Assent JSON ~170 bytes;"
    echo "  references ~600 bytes (11 fields, 3 consent boxes)."
    echo
    echo "## Results (medians over $ROUNDS rounds; latency in ms)"
    echo
    echo "Ratio = Assent req/s ÷ the reference's req/s of the same round; median (min–max over rounds). Targets (issue 21):"
    echo "the form and the JSON API ≥ $SQLITE_TARGET of \`/submit-sqlite-group\` on SQLite and ≥ $PG_TARGET of \`/submit-pg\` on"
    echo "PostgreSQL, each with a p99 ≤ ${P99_FACTOR}× the reference's (medians); the consent check ≥ $CONSENT_TARGET of \`GET /hello\`"
    echo "(no database); \`GET /me\` ≥ $ME_SQLITE_TARGET (SQLite) and ≥ $ME_PG_TARGET (PostgreSQL) of \`GET /form\`; \`GET /f/newsletter\`"
    echo "≥ $GET_TARGET of \`GET /form\`. A target is judged against the baseline, and against limit in brackets where it ran;"
    echo "rows marked (context) have none. *Errors* = non-2xx/3xx responses + socket errors over all recorded runs of"
    echo "the group (a run with errors is not a valid result). The consent check looks up one of $SEED seeded people per"
    echo "request (API key, blind index, consent states, policy versions); the preference center is one signed-in"
    echo "person's page (session, decrypted values, consents, history)."
    echo
    echo "| comparison | Assent req/s | Assent p50 | Assent p99 | baseline req/s | baseline p99 | ratio vs baseline | limit req/s | limit p99 | ratio vs limit | target | p99 ≤ ${P99_FACTOR}× | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|:-:|---:|"
    cat "$OUT/summary.md"
    echo
    echo "### Mixed load (consent checks and new signups at once)"
    echo
    echo "Each part's req/s under the mix ÷ the req/s of what it is compared with, measured alone in the same round and"
    echo "group: the consent checks against the references' \`GET /hello\` (target ≥ $MIX_CONSENT_TARGET), the signups against"
    echo "Assent's own JSON signups with the same $MIX_SIGNUP_CONNECTIONS connections (target ≥ $MIX_SIGNUP_TARGET). *Errors* = non-2xx/3xx"
    echo "+ socket errors of both wrk processes of the mix and of the runs the row is compared with."
    echo
    echo "| mixed load | Assent req/s | Assent p50 | Assent p99 | compared with (alone) | its req/s | ratio | ratio vs limit | target | errors |"
    echo "|---|---:|---:|---:|---|---:|---:|---:|:-:|---:|"
    cat "$OUT/mix.md"
    echo
    echo "### Every run"
    echo
    echo "| round | scenario | req/s | p50 ms | p99 ms | requests | non-2xx/3xx | socket errors | other CPU |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' 'NR > 1 { printf "| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s%% |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$TSV"
    echo
    echo "Scenario keys: a-* are Assent (a-mixc-*/a-mixs-* the consent checks and the signups of a mixed load), b-* the"
    echo "baseline, l-* limit; see \`SCEN\` in bench/run.sh. *Other CPU*: CPU time used during the run by processes other"
    echo "than Assent, the baseline, limit, PostgreSQL, kernel threads and wrk, in % of one core (another user's build or"
    echo "tests on the machine); a group is measured again when it exceeds ${OTHER_MAX}%."
    if [ "$(wc -l <"$DISCARDED")" -gt 1 ]; then
        echo
        echo "Runs discarded because of other load (and measured again):"
        echo
        echo "| round | scenario | req/s | p50 ms | p99 ms | requests | non-2xx/3xx | socket errors | other CPU |"
        echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
        awk -F'\t' 'NR > 1 { printf "| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s%% |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$DISCARDED"
    fi
    echo
    echo "## Checks after the load"
    echo
    echo "- Submissions stored by Assent vs requests wrk counted as answered (warm-ups and pre-flight included; the"
    echo "  database may hold a few more, from requests still in flight when a wrk run ended):"
    echo "  SQLite $ROWS_SQLITE rows / $SENT_SQLITE requests; PostgreSQL $ROWS_PG rows / $SENT_PG requests."
    echo "- \`assent ledger verify\` afterwards: SQLite $VERIFY_SQLITE; PostgreSQL $VERIFY_PG."
    echo "- Server log lines at ASSENT_LOG=warn (5xx answers and failed group commits log a warning/error):"
    echo "  Assent SQLite $LOGLINES_SQLITE, Assent PG $LOGLINES_PG, baseline $LOGLINES_BASELINE, limit $LOGLINES_LIMIT."
    if [ "${#PROFILED[@]}" -gt 0 ]; then
        echo
        echo "## Profiles (Assent release binary under the same load)"
        echo
        echo "perf (cpu-clock, 499 Hz, DWARF call graphs) attached to the Assent process for 8 s during a wrk load of"
        echo "the same shape; throughput while profiled is lower than above. Raw data in bench/out/."
        for key in "${PROFILED[@]}"; do
            echo
            echo "### $key"
            echo
            echo "CPU per process, and per thread of the Assent process, over 8 s of an unprofiled load"
            echo "($(load_rps profile-plain "$key")):"
            echo
            echo '```'
            cat "$OUT/profile-$key.procs.txt"
            echo "-- threads of assent:"
            cat "$OUT/profile-$key.threads.txt"
            echo '```'
            echo
            echo "perf samples by thread ($(load_rps profile-perf "$key") while sampled):"
            echo
            echo '```'
            cat "$OUT/profile-$key.comm.txt"
            echo '```'
            echo
            echo "Inclusive time (children) of Assent functions and storage steps, % of samples:"
            echo
            echo '```'
            cat "$OUT/profile-$key.children.txt"
            echo '```'
            echo
            echo "Top functions by self time:"
            echo
            echo '```'
            head -25 "$OUT/profile-$key.self.txt"
            echo '```'
        done
    fi
    echo
    echo "## Analysis"
    echo
    echo "(to be written after the run)"
    # bench/import.sh's and bench/retention.sh's sections are their own: kept across runs of this script.
    if [ -n "$KEPT_SECTIONS" ]; then echo; printf '%s\n' "$KEPT_SECTIONS"; fi
} >"$RESULTS"
log "wrote $RESULTS"
