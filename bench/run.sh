#!/usr/bin/env bash
# Assent vs ../shared/limit, in the same run, with the same load generator.
#
#   bench/run.sh                 # build, load, write bench/RESULTS.md (~13 min of loads + ~3 min of
#                                # profiling after builds; longer while other work keeps the machine busy)
#
# Builds release binaries of Assent (target/bench) and of limit (target/limit), starts one Assent on
# SQLite (synchronous=FULL), one Assent on PostgreSQL and one limit, and loads each endpoint with
#   wrk -t2 -c64 -d15s --latency   (after a 3 s warm-up that is not recorded)
# one load at a time, every request with a new e-mail address. Each comparison is a pair of loads
# measured back to back (Assent, then limit; the order flips every round), and the whole set of
# pairs is repeated ROUNDS times. The report gives per-pair medians and the ratio Assent/limit of
# requests per second. If a ratio is below the target (0.5), the Assent process is profiled with
# perf under that load (PROFILE=never to skip, PROFILE=always to profile every Assent scenario).
#
# Environment (all optional):
#   ROUNDS=3 DURATION=15s WARMUP=3s THREADS=2 CONNECTIONS=64 TARGET=0.5 PROFILE=auto SKIP_BUILD=0
#   QUIET_MAX=25 QUIET_WAIT=300   before each pair, wait up to QUIET_WAIT s for the machine to be idle
#                                 (busy <= QUIET_MAX % of one core) apart from the benchmark itself
#   OTHER_MAX=20 RETRIES=10       redo a pair when other processes used > OTHER_MAX % of a core in it
#   BENCH_REF=<git revision>   build and measure that commit (git archive into a temp dir) instead of
#                              the working tree, e.g. BENCH_REF=HEAD while others edit src/
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432   (server; databases are created and dropped)
#   LIMIT_DIR=<repo>/../shared/limit  ASSENT_SQLITE_PORT=18081 ASSENT_PG_PORT=18082 LIMIT_PORT=8088
#   RESULTS=bench/RESULTS.md
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
TARGET=${TARGET:-0.5}
CONSENT_TARGET=${CONSENT_TARGET:-0.3}
PROFILE=${PROFILE:-auto}
QUIET_MAX=${QUIET_MAX:-25}
QUIET_WAIT=${QUIET_WAIT:-300}
OTHER_MAX=${OTHER_MAX:-20}
RETRIES=${RETRIES:-10}
SKIP_BUILD=${SKIP_BUILD:-0}
BENCH_REF=${BENCH_REF:-}
ASSENT_SQLITE_PORT=${ASSENT_SQLITE_PORT:-18081}
ASSENT_PG_PORT=${ASSENT_PG_PORT:-18082}
LIMIT_PORT=${LIMIT_PORT:-8088}
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
KEPT_IMPORT=$( [ -f "$RESULTS" ] && sed -n '/^<!-- import:begin -->$/,/^<!-- import:end -->$/p' "$RESULTS" || true)
ASSENT_DB=assent_bench
LIMIT_DB=limit_bench
OUT=$BENCH_DIR/out

ASSENT_BIN=$ROOT/target/bench/release/assent
LIMIT_BIN=$ROOT/target/limit/release/limit

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
        for db in "$ASSENT_DB" "$LIMIT_DB"; do
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
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || die "could not install $*"
}
command -v cargo >/dev/null || die "cargo not found"
command -v wrk >/dev/null || apt_install wrk
command -v curl >/dev/null || apt_install curl
command -v psql >/dev/null || apt_install postgresql-client
[ -f "$LIMIT_DIR/Cargo.toml" ] || die "limit not found at $LIMIT_DIR (set LIMIT_DIR)"
psql "$PG_BASE/postgres" -qAtc 'select 1' >/dev/null 2>&1 \
    || die "PostgreSQL is not reachable at $PG_BASE (start it, or set BENCH_PG_URL)"
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$ASSENT_SQLITE_PORT" "$ASSENT_PG_PORT" "$LIMIT_PORT"; do
    port_busy "$p" && die "port $p is already in use (set ASSENT_SQLITE_PORT / ASSENT_PG_PORT / LIMIT_PORT)"
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
    log "building limit (release, target/limit)"
    (cd "$ROOT" && cargo build --release --manifest-path "$LIMIT_DIR/Cargo.toml" --target-dir "$ROOT/target/limit") \
        || die "limit release build failed"
fi
[ -x "$ASSENT_BIN" ] || die "$ASSENT_BIN missing"
[ -x "$LIMIT_BIN" ] || die "$LIMIT_BIN missing"
ASSENT_CONFIG_FILE=$SRC/assent.toml

# ---------------------------------------------------------------- fresh state
rm -rf "$OUT"
mkdir -p "$OUT"
for db in "$ASSENT_DB" "$LIMIT_DB"; do
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

log "starting limit and two Assent servers"
mkdir -p "$WORK/limit-sqlite"
LIMIT_BIND=127.0.0.1:$LIMIT_PORT LIMIT_SQLITE_DIR=$WORK/limit-sqlite DATABASE_URL=$PG_BASE/$LIMIT_DB \
    "$LIMIT_BIN" >"$OUT/limit.log" 2>&1 &
LIMIT_PID=$!
PIDS+=("$LIMIT_PID")
START_LIMIT=$(wait_http limit "$LIMIT_PID" "http://127.0.0.1:$LIMIT_PORT/hello" 60)

start_assent assent-sqlite "$ASSENT_SQLITE_PORT" "sqlite://$WORK/assent-sqlite/assent.db"
SQLITE_PID=$LAST_PID
START_SQLITE=$(wait_http assent-sqlite "$SQLITE_PID" "http://127.0.0.1:$ASSENT_SQLITE_PORT/healthz" 120)
start_assent assent-pg "$ASSENT_PG_PORT" "$PG_BASE/$ASSENT_DB"
PG_PID=$LAST_PID
START_PG=$(wait_http assent-pg "$PG_PID" "http://127.0.0.1:$ASSENT_PG_PORT/healthz" 120)
log "ready: limit ${START_LIMIT}s, assent-sqlite ${START_SQLITE}s, assent-pg ${START_PG}s"

AS=http://127.0.0.1:$ASSENT_SQLITE_PORT
AP=http://127.0.0.1:$ASSENT_PG_PORT
LM=http://127.0.0.1:$LIMIT_PORT
FORM_LUA=$BENCH_DIR/newsletter.lua
JSON_LUA=$BENCH_DIR/newsletter_json.lua
LIMIT_LUA=$LIMIT_DIR/submit.lua

# ---------------------------------------------------------------- pre-flight: each endpoint answers as expected
expect() { # want-status description curl-args...
    local want=$1 what=$2 got
    shift 2
    got=$(curl -s -o "$OUT/preflight.body" -w '%{http_code}' "$@")
    [ "$got" = "$want" ] || { head -c 600 "$OUT/preflight.body" >&2; echo >&2; die "pre-flight: $what answered $got, expected $want"; }
}
FORM_BODY='email=preflight%40example.com&name=Jane&phone=010-1234-5678&purpose=service&purpose=marketing_email&purpose=marketing_sms&purpose=personalisation'
JSON_BODY='{"fields":{"email":"preflight.json@example.com","name":"Jane","phone":"010-1234-5678"},"purposes":["service","marketing_email","marketing_sms","personalisation"],"locale":"en"}'
LIMIT_BODY='form_id=contact-2024&name=Jane&email=preflight%40example.com&phone=1&company=X&country=GB&message=hi&consent_marketing=on&policy_version=2024-01'
for base in "$AS" "$AP"; do
    expect 200 "GET $base/f/newsletter" "$base/f/newsletter"
    expect 303 "POST $base/f/newsletter" -H 'content-type: application/x-www-form-urlencoded' --data "$FORM_BODY" "$base/f/newsletter"
    expect 201 "POST $base/api/v1/forms/newsletter/submissions" -H 'content-type: application/json' --data "$JSON_BODY" "$base/api/v1/forms/newsletter/submissions"
done
expect 200 "GET $LM/form" "$LM/form"
for ep in submit-sqlite-group submit-sqlite-full submit-pg; do
    expect 201 "POST $LM/$ep" -H 'content-type: application/x-www-form-urlencoded' --data "$LIMIT_BODY" "$LM/$ep"
done
expect 200 "GET $LM/hello" "$LM/hello"

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
# Scenarios: key|side|server pid|url|script|description|script arguments after the run tag
SCEN=(
    "a-form-sqlite|assent|$SQLITE_PID|$AS/f/newsletter|$FORM_LUA|Assent POST /f/newsletter, SQLite"
    "a-form-pg|assent|$PG_PID|$AP/f/newsletter|$FORM_LUA|Assent POST /f/newsletter, PostgreSQL"
    "a-get|assent|$SQLITE_PID|$AS/f/newsletter||Assent GET /f/newsletter"
    "a-json-sqlite|assent|$SQLITE_PID|$AS/api/v1/forms/newsletter/submissions|$JSON_LUA|Assent POST /api/v1/forms/newsletter/submissions (JSON), SQLite"
    "a-json-pg|assent|$PG_PID|$AP/api/v1/forms/newsletter/submissions|$JSON_LUA|Assent POST /api/v1/forms/newsletter/submissions (JSON), PostgreSQL"
    "l-sqlite-group|limit|$LIMIT_PID|$LM/submit-sqlite-group|$LIMIT_LUA|limit POST /submit-sqlite-group"
    "l-sqlite-full|limit|$LIMIT_PID|$LM/submit-sqlite-full|$LIMIT_LUA|limit POST /submit-sqlite-full"
    "l-pg|limit|$LIMIT_PID|$LM/submit-pg|$LIMIT_LUA|limit POST /submit-pg"
    "a-consents-sqlite|assent|$SQLITE_PID|$AS/api/v1/consents|$BENCH_DIR/consents.lua|Assent GET /api/v1/consents?email=…, SQLite|$KEY_SQLITE $SEED"
    "a-consents-pg|assent|$PG_PID|$AP/api/v1/consents|$BENCH_DIR/consents.lua|Assent GET /api/v1/consents?email=…, PostgreSQL|$KEY_PG $SEED"
    "a-bulk-sqlite|assent|$SQLITE_PID|$AS/api/v1/consents/query|$BENCH_DIR/bulk.lua|Assent POST /api/v1/consents/query (100 people each), SQLite|$KEY_SQLITE $SEED"
    "a-bulk-pg|assent|$PG_PID|$AP/api/v1/consents/query|$BENCH_DIR/bulk.lua|Assent POST /api/v1/consents/query (100 people each), PostgreSQL|$KEY_PG $SEED"
    "a-me-sqlite|assent|$SQLITE_PID|$AS/me|$BENCH_DIR/me.lua|Assent GET /me (signed in), SQLite|$COOKIE_SQLITE"
    "a-me-pg|assent|$PG_PID|$AP/me|$BENCH_DIR/me.lua|Assent GET /me (signed in), PostgreSQL|$COOKIE_PG"
    "l-get|limit|$LIMIT_PID|$LM/form||limit GET /form"
    "l-hello|limit|$LIMIT_PID|$LM/hello||limit GET /hello"
)
scen() { # key field(1-based over key|side|pid|url|script|desc)
    local s
    for s in "${SCEN[@]}"; do
        if [ "${s%%|*}" = "$1" ]; then echo "$s" | cut -d'|' -f"$2"; return; fi
    done
    die "unknown scenario $1"
}
# Comparisons: row|assent key|limit key|title ; "context" rows reuse the Assent measurement of the
# pair before them in the same round.
PAIRS=(
    "form-sqlite|a-form-sqlite|l-sqlite-group|POST /f/newsletter, SQLite FULL vs limit /submit-sqlite-group"
    "form-sqlite-full|=|l-sqlite-full|(context) same Assent run vs limit /submit-sqlite-full (1 tx per submission)"
    "form-pg|a-form-pg|l-pg|POST /f/newsletter, PostgreSQL vs limit /submit-pg"
    "get|a-get|l-get|GET /f/newsletter vs limit GET /form"
    "json-sqlite|a-json-sqlite|l-sqlite-group|JSON API, SQLite FULL vs limit /submit-sqlite-group"
    "json-pg|a-json-pg|l-pg|JSON API, PostgreSQL vs limit /submit-pg"
    "consents-sqlite|a-consents-sqlite|l-hello|consent check GET /api/v1/consents, SQLite vs limit GET /hello"
    "consents-pg|a-consents-pg|l-hello|consent check GET /api/v1/consents, PostgreSQL vs limit GET /hello"
    "bulk-sqlite|a-bulk-sqlite|l-hello|(context) bulk check, 100 people per request (lookups/s = req/s x 100), SQLite vs limit GET /hello"
    "bulk-pg|a-bulk-pg|l-hello|(context) bulk check, 100 people per request (lookups/s = req/s x 100), PostgreSQL vs limit GET /hello"
    "me-sqlite|a-me-sqlite|l-get|(context) preference center GET /me, SQLite vs limit GET /form"
    "me-pg|a-me-pg|l-get|(context) preference center GET /me, PostgreSQL vs limit GET /form"
)
# The target of each comparison (rows without one are context).
row_target() {
    case $1 in
        consents-*) echo "$CONSENT_TARGET" ;;
        form-sqlite-full|me-*|bulk-*) echo "" ;;
        *) echo "$TARGET" ;;
    esac
}

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
# limit, PostgreSQL, kernel threads); the difference, less wrk's own time, is someone else's load.
cpu_snapshot() {
    local bench
    bench=$(awk '{ c = $0; sub(/^[^(]*\(/, "", c); sub(/\)[^)]*$/, "", c)
                  r = $0; sub(/^.*\) /, "", r); split(r, f, " ")
                  if (c == "assent" || c == "limit" || c == "postgres" || f[2] == 2) s += f[12] + f[13] }
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
    local f=$1 key=$2 dur=$3 url script script_args
    shift 3
    url=$(scen "$key" 4)
    script=$(scen "$key" 5)
    script_args=$(scen "$key" 7)
    local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$dur" "$@")
    [ -n "$script" ] && args+=(-s "$script")
    local TIMEFORMAT='%U %S'
    # shellcheck disable=SC2086 # script_args are words on purpose
    { time wrk "${args[@]}" "$url" -- "$RUN_TAG" $script_args >"$f" 2>&1; } 2>"$f.cpu" || { cat "$f" >&2; die "wrk failed for $key"; }
}

RUN_ID=$(date +%s)
LAST_OTHER=0
measure() { # round attempt key
    local round=$1 attempt=$2 key=$3 f line c0 c1 secs
    f=$OUT/$key.r$round.a$attempt
    # PostgreSQL here runs with autovacuum off (PG_AUTOVACUUM below), so nothing would ever analyse
    # the tables as the load grows them, and plans cached while they were empty (sequential scans)
    # would stay: stand in for autovacuum's ANALYZE before each PostgreSQL load, on both sides.
    case $key in *pg*) for db in "$ASSENT_DB" "$LIMIT_DB"; do psql "$PG_BASE/$db" -qAtc ANALYZE >/dev/null 2>&1 || true; done ;; esac
    RUN_TAG="${RUN_ID}w${round}a${attempt}${key}"
    run_wrk "$f.warmup.txt" "$key" "$WARMUP"
    SENT[$key]=$(( ${SENT[$key]:-0} + $(awk '/requests in/ { print $1 }' "$f.warmup.txt") ))
    sleep 0.5
    RUN_TAG="${RUN_ID}m${round}a${attempt}${key}"
    c0=$(cpu_snapshot)
    run_wrk "$f.txt" "$key" "$DURATION" --latency
    c1=$(cpu_snapshot)
    line=$(parse_wrk "$f.txt")
    secs=$(awk '/requests in/ { sub(/s,?$/, "", $4); print $4 }' "$f.txt")
    # CPU used by anything but Assent/limit/PostgreSQL/kernel threads/wrk, in % of one core
    LAST_OTHER=$(echo "$c0 $c1 $(cat "$f.txt.cpu") $secs" | awk -v hz="$(getconf CLK_TCK)" \
        '{ o = (($3 - $1) - ($4 - $2)) / hz - ($5 + $6); if (o < 0) o = 0; printf "%.0f", 100 * o / $7 }')
    SENT[$key]=$(( ${SENT[$key]} + $(echo "$line" | awk '{ print $4 }') ))
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$key" "$line" "$LAST_OTHER" "$PAIR_ROW" | tr ' ' '\t' >>"$TSV"
    log "round $round $key: $(echo "$line" | awk '{ printf "%s req/s, p50 %s ms, p99 %s ms, non-2xx/3xx %s, socket errors %s", $1, $2, $3, $5, $6 }'), other CPU ${LAST_OTHER}%"
    sleep 0.5
}
# A pair (or a lone context run) is redone when someone else's load took more than OTHER_MAX % of a
# core during one of its runs; RETRIES redos in all.
RETRIES_LEFT=$RETRIES
measure_pair() { # round key... (in order)
    local round=$1 attempt=0 worst k n
    shift
    while :; do
        wait_quiet
        worst=0
        for k in "$@"; do
            measure "$round" "$attempt" "$k"
            [ "$LAST_OTHER" -gt "$worst" ] && worst=$LAST_OTHER
        done
        if [ "$worst" -le "$OTHER_MAX" ] || [ "$RETRIES_LEFT" -le 0 ]; then
            [ "$worst" -gt "$OTHER_MAX" ] && log "keeping a disturbed measurement (no retries left)"
            return 0
        fi
        n=$#
        log "someone else used ${worst}% of a core during this pair; measuring it again"
        tail -n "$n" "$TSV" >>"$DISCARDED"
        head -n -"$n" "$TSV" >"$TSV.tmp" && mv "$TSV.tmp" "$TSV"
        RETRIES_LEFT=$((RETRIES_LEFT - 1))
        attempt=$((attempt + 1))
    done
}

T0=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
    for pair in "${PAIRS[@]}"; do
        IFS='|' read -r PAIR_ROW akey lkey _ <<<"$pair"
        if [ "$akey" = "=" ]; then
            measure_pair "$round" "$lkey"
        elif [ $((round % 2)) = 1 ]; then
            measure_pair "$round" "$akey" "$lkey"
        else
            measure_pair "$round" "$lkey" "$akey"
        fi
    done
done
T1=$(date +%s)
log "measurements done in $((T1 - T0))s"

# ---------------------------------------------------------------- summarising
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# A limit endpoint is measured in several pairs of a round (e.g. /submit-pg beside the form and the
# JSON path), so each value is taken from its own pair.
col() { # key column(3=rps 4=p50 5=p99 7=non2xx 8=sock) round-or-empty pair
    awk -F'\t' -v k="$1" -v c="$2" -v r="${3:-}" -v p="$4" 'NR > 1 && $2 == k && $10 == p && (r == "" || $1 == r) { print $c }' "$TSV"
}
sum_col() { col "$1" "$2" "" "$3" | awk '{ s += $1 } END { print s + 0 }'; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "nan") print "n/a"; else printf "%.0f", v }'; }
fmt2() { awk -v v="$1" 'BEGIN { if (v == "nan") print "n/a"; else printf "%.2f", v }'; }

declare -A RATIO_MED
summary_rows() {
    local pair row arow akey lkey title prev_akey="" prev_row="" ratios r ar lr target
    for pair in "${PAIRS[@]}"; do
        IFS='|' read -r row akey lkey title <<<"$pair"
        arow=$row
        if [ "$akey" = "=" ]; then akey=$prev_akey; arow=$prev_row; fi
        prev_akey=$akey
        prev_row=$arow
        ratios=""
        for r in $(seq 1 "$ROUNDS"); do
            ar=$(col "$akey" 3 "$r" "$arow"); lr=$(col "$lkey" 3 "$r" "$row")
            ratios+="$(awk -v a="$ar" -v l="$lr" 'BEGIN { printf "%.3f", a / l }') "
        done
        RATIO_MED[$row]=$(echo "$ratios" | tr ' ' '\n' | grep . | median)
        local rmin rmax errs pass
        rmin=$(echo "$ratios" | tr ' ' '\n' | grep . | sort -g | head -1)
        rmax=$(echo "$ratios" | tr ' ' '\n' | grep . | sort -g | tail -1)
        errs=$(( $(sum_col "$akey" 7 "$arow") + $(sum_col "$akey" 8 "$arow") + $(sum_col "$lkey" 7 "$row") + $(sum_col "$lkey" 8 "$row") ))
        target=$(row_target "$row")
        if [ -n "$target" ]; then
            pass="≥ $target: $(awk -v m="${RATIO_MED[$row]}" -v t="$target" 'BEGIN { print (m >= t) ? "yes" : "**no**" }')"
        else
            pass="(context)"
        fi
        printf '| %s | %s | %s | %s | %s | %s | %s | **%s** (%s–%s) | %s | %s |\n' "$title" \
            "$(fmt "$(col "$akey" 3 "" "$arow" | median)")" "$(fmt2 "$(col "$akey" 4 "" "$arow" | median)")" "$(fmt2 "$(col "$akey" 5 "" "$arow" | median)")" \
            "$(fmt "$(col "$lkey" 3 "" "$row" | median)")" "$(fmt2 "$(col "$lkey" 4 "" "$row" | median)")" "$(fmt2 "$(col "$lkey" 5 "" "$row" | median)")" \
            "$(fmt2 "${RATIO_MED[$row]}")" "$(fmt2 "$rmin")" "$(fmt2 "$rmax")" "$pass" "$errs"
    done
}
summary_rows >"$OUT/summary.md" # not in a subshell: fills RATIO_MED

# ---------------------------------------------------------------- integrity checks after the load
count_sqlite() { if command -v sqlite3 >/dev/null; then sqlite3 "$1" "$2" 2>/dev/null || echo "?"; else echo "(no sqlite3)"; fi; }
ROWS_SQLITE=$(count_sqlite "$WORK/assent-sqlite/assent.db" 'select count(*) from submissions')
ROWS_PG=$(psql "$PG_BASE/$ASSENT_DB" -qAtc 'select count(*) from submissions' 2>/dev/null || echo "?")
SENT_SQLITE=$(( ${SENT[a-form-sqlite]} + ${SENT[a-json-sqlite]} + 2 + SEED ))
SENT_PG=$(( ${SENT[a-form-pg]} + ${SENT[a-json-pg]} + 2 + SEED ))
verify_ledger() { # name database_url
    ASSENT_DATABASE_URL=$2 ASSENT_DATA_DIR=$WORK/$1 ASSENT_CONFIG=$ASSENT_CONFIG_FILE ASSENT_MASTER_KEY=$MASTER_KEY \
        ASSENT_LOG=warn timeout 300 "$ASSENT_BIN" ledger verify >"$OUT/$1.verify.txt" 2>&1 && echo "ok" || echo "FAILED (exit $?, see bench/out/$1.verify.txt)"
}
VERIFY_SQLITE=$(verify_ledger assent-sqlite "sqlite://$WORK/assent-sqlite/assent.db")
VERIFY_PG=$(verify_ledger assent-pg "$PG_BASE/$ASSENT_DB")
LOGLINES_SQLITE=$(grep -c . "$OUT/assent-sqlite.log" || true)
LOGLINES_PG=$(grep -c . "$OUT/assent-pg.log" || true)
LOGLINES_LIMIT=$(grep -c . "$OUT/limit.log" || true)

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
    run_wrk "$f.wrk-plain.txt" "$key" "$((dur + 2))s" --latency &
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
    run_wrk "$f.wrk-perf.txt" "$key" "$((dur + 1))s"
    wait "$perf_pid" || true
    perf report -i "$OUT/perf-$key.data" --stdio --no-children -g none --sort comm \
        2>/dev/null | grep -v '^#' | grep . | head -12 >"$f.comm.txt" || true
    perf report -i "$OUT/perf-$key.data" --stdio --no-children -g none --sort dso,sym \
        2>/dev/null | grep -v '^#' | grep . | head -40 | cut -c1-150 >"$f.self.txt" || true
    # inclusive time of Assent's own functions and of the storage-engine steps they end up in
    perf report -i "$OUT/perf-$key.data" --stdio --children -g none --sort sym 2>/dev/null | grep -v '^#' \
        | grep -E '^\s*[0-9.]+%\s+[0-9.]+%\s+\[.\]\s+(assent::[A-Za-z0-9_:]+|<assent::[^ ]+ as [^ ]+>::[a-z_]+|sqlite3_step|sqlite3_prepare_v[23]|sqlite3_exec|walCheckpoint|pagerStress|pagerWalFrames|unixSync|unixRead|unixWrite|sqlite3BtreeIndexMoveto|sqlite3BtreeInsert|[A-Za-z_:<> ]*commit_transaction|PQ(exec|getResult|sendQueryParams|sendQueryPrepared|prepare)|__libc_(send|recv|pread64|pwrite64)|askama::[A-Za-z_:]+|serde_json::[a-z_:]+|actix_http::h1::dispatcher::[A-Za-z_:]+)( \(inlined\))?\s*$' \
        | awk '!seen[$NF $(NF-1)]++' | head -45 | cut -c1-170 >"$f.children.txt" || true
    PROFILED+=("$key")
}
if [ "$PROFILE" != never ]; then
    for pair in "${PAIRS[@]}"; do
        IFS='|' read -r row akey _ _ <<<"$pair"
        [ "$akey" = "=" ] && continue
        target=$(row_target "$row")
        below=$(awk -v m="${RATIO_MED[$row]}" -v t="${target:-0}" 'BEGIN { print (m < t) ? 1 : 0 }')
        if [ "$PROFILE" = always ] || [ "$below" = 1 ]; then profile "$akey"; fi
    done
fi

# ---------------------------------------------------------------- report
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
fs=$(df -PT "$WORK" | awk 'NR == 2 { print $2 " (" $1 ")" }')
pgver=$(psql "$PG_BASE/postgres" -qAtc 'show server_version' 2>/dev/null || echo "?")
PG_AUTOVACUUM=$(psql "$PG_BASE/postgres" -qAtc 'show autovacuum' 2>/dev/null || echo "?")
{
    echo "# Benchmark results: Assent vs limit"
    echo
    echo "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). Re-running the script overwrites this file;"
    echo "the *Analysis* section at the end is written by hand after a run."
    echo
    echo "- Assent commit: \`$GIT_COMMIT\`${GIT_DIRTY:+ (working tree had uncommitted changes in: $GIT_DIRTY)}"
    echo "- limit: \`$(realpath "$LIMIT_DIR")\` (release build, default profile)"
    echo "- Machine: $(nproc) cores, $cpu_model, $mem RAM, kernel $(uname -r); temp dir (SQLite files) on $fs"
    echo "- $(rustc -V 2>/dev/null), PostgreSQL $pgver on 127.0.0.1:5432 (autovacuum $PG_AUTOVACUUM; the script runs ANALYZE on both"
    echo "  databases before each PostgreSQL load in its place), $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')"
    echo "- Load: \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\`, each preceded by an unrecorded ${WARMUP} warm-up;"
    echo "  one load at a time on the same 2 cores as the servers (wrk competes with them for CPU, equally on both sides)."
    echo "  $ROUNDS rounds; in each round every comparison is a back-to-back pair (Assent first in odd rounds, limit"
    echo "  first in even ones). Every submission carries a new e-mail address (bench/newsletter.lua,"
    echo "  bench/newsletter_json.lua; limit's own submit.lua); reads use bench/consents.lua and bench/me.lua."
    echo "- Servers: Assent \`serve\` with defaults (workers = cores, read pool 8, one writer thread with group commit),"
    echo "  SQLite WAL + synchronous=FULL, and a second instance on PostgreSQL; limit with defaults (workers = cores,"
    echo "  PG pool 16, GROUP_MAX 256). Start-up to first healthy answer: Assent SQLite ${START_SQLITE}s, Assent PG"
    echo "  ${START_PG}s, limit ${START_LIMIT}s."
    echo "- Request bodies: Assent form ~190 bytes (4 purposes, email + name + phone); Assent JSON ~170 bytes;"
    echo "  limit ~600 bytes (11 fields, 3 consent boxes)."
    echo
    echo "## Results (medians over $ROUNDS rounds; latency in ms)"
    echo
    echo "Ratio = Assent req/s ÷ limit req/s of the same round; median (min–max over rounds). Targets: ≥ $TARGET for the"
    echo "submission paths against limit's durable write path, ≥ $CONSENT_TARGET for the consent check against limit's"
    echo "\`GET /hello\` (no database); rows marked (context) have none. *Errors* = non-2xx/3xx responses + socket errors"
    echo "over all recorded runs of the pair (a run with errors is not a valid result). The consent check looks up one"
    echo "of $SEED seeded people per request (API key, blind index, consent states, policy versions); the preference"
    echo "center is one signed-in person's page (session, decrypted values, consents, history)."
    echo
    echo "| comparison | Assent req/s | Assent p50 | Assent p99 | limit req/s | limit p50 | limit p99 | ratio | target | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|:-:|---:|"
    cat "$OUT/summary.md"
    echo
    echo "### Every run"
    echo
    echo "| round | scenario | req/s | p50 ms | p99 ms | requests | non-2xx/3xx | socket errors | other CPU |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' 'NR > 1 { printf "| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s%% |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$TSV"
    echo
    echo "Scenario keys: a-* are Assent, l-* are limit; see \`SCEN\` in bench/run.sh. *Other CPU*: CPU time used during"
    echo "the run by processes other than Assent, limit, PostgreSQL, kernel threads and wrk, in % of one core"
    echo "(another user's build or tests on the machine); a pair is measured again when it exceeds ${OTHER_MAX}%."
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
    echo "  Assent SQLite $LOGLINES_SQLITE, Assent PG $LOGLINES_PG, limit $LOGLINES_LIMIT."
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
            echo "($(awk '/Requests\/sec/ { print $2 }' "$OUT/profile-$key.wrk-plain.txt") req/s):"
            echo
            echo '```'
            cat "$OUT/profile-$key.procs.txt"
            echo "-- threads of assent:"
            cat "$OUT/profile-$key.threads.txt"
            echo '```'
            echo
            echo "perf samples by thread ($(awk '/Requests\/sec/ { print $2 }' "$OUT/profile-$key.wrk-perf.txt") req/s while sampled):"
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
    # bench/import.sh's section is its own: kept across runs of this script.
    if [ -n "$KEPT_IMPORT" ]; then echo; printf '%s\n' "$KEPT_IMPORT"; fi
} >"$RESULTS"
log "wrote $RESULTS"
