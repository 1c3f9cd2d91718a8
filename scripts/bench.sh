#!/usr/bin/env bash
# The benchmark command (docs/PERFORMANCE.md): release builds of `phananh serve` measured over
# HTTP on 127.0.0.1 with real load generators, printed as one table. Not part of the test suite.
#
#   scripts/bench.sh            # full: 1,000,000 stored reports, 20-second runs (about 10 minutes)
#   scripts/bench.sh --quick    # 100,000 stored reports, 8-second runs
#
# Rows: sustained submissions per second (wrk, closed loop, fsync'd commits, load generator on the
# same 2 cores); submission latency at a fixed 2,000/s (open loop, no coordinated omission);
# the staff queue and a report (API and console page) at the stored count; resident memory of
# serve idle, under load and at the stored count. Installs wrk (apt-get) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/phananh/target}"
export CARGO_TERM_COLOR=never

QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
STORED="${PHANANH_BENCH_STORED:-$([ $QUICK = 1 ] && echo 100000 || echo 1000000)}"
SECS="${PHANANH_BENCH_SECONDS:-$([ $QUICK = 1 ] && echo 8 || echo 20)}"
RATE="${PHANANH_BENCH_RATE:-2000}"
READ_RATE="${PHANANH_BENCH_READ_RATE:-200}"

if ! command -v wrk >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi

echo "building (release)…" >&2
cargo build --release --locked -q -p phananh --bin phananh --example loadgen
cargo build --release --locked -q -p phananh-embedded --example bench_search
BIN="$CARGO_TARGET_DIR/release/phananh"
LOADGEN="$CARGO_TARGET_DIR/release/examples/loadgen"
FILL="$CARGO_TARGET_DIR/release/examples/bench_search"

WORK="$(mktemp -d /tmp/phananh-bench.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# The shipped configuration with the rate limits off: the load comes from one address
# (127.0.0.1), which the limits exist to refuse; this measures the system, not the limiter.
mkdir -p "$WORK/config" && cp config/laichau/*.toml "$WORK/config/"
printf '\n[rate_limits]\nenabled = false\n' >>"$WORK/config/city.toml"

# Starts serve on data dir $1; sets PID and URL.
start() {
  : >"$WORK/serve.out"
  RUST_LOG=warn "$BIN" --config "$WORK/config" --data "$1" serve --bind 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
  PID=$!
  URL=""
  for _ in $(seq 1 600); do
    URL="$(sed -n 's/^phananh đang chạy tại //p' "$WORK/serve.out" | head -n 1 | tr -d '[:space:]')"
    [ -n "$URL" ] && break
    sleep 0.1
  done
  [ -n "$URL" ] || { echo "serve did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; PID=""; }
rss_mb() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$PID/status"; }
# Samples RSS every 0.25 s while "$@" runs; prints the command's output and keeps the peak (MB)
# for `peak` (command substitution runs this in a subshell).
with_peak_rss() {
  local out="$WORK/cmd.out" peak=0 r
  "$@" >"$out" 2>&1 &
  local cmd=$!
  while kill -0 "$cmd" 2>/dev/null; do
    r=$(rss_mb); [ "${r:-0}" -gt "$peak" ] && peak=$r
    sleep 0.25
  done
  wait "$cmd" || true
  echo "$peak" >"$WORK/peak"
  cat "$out"
}
peak() { cat "$WORK/peak"; }
field() { sed -n "s/.* $1 \([^ ]*\).*/\1/p" <<<"$2"; }
login() {
  local user="$1" pass
  pass=$(awk -v u="$user" '$1 == u {print $4}' "$2/demo-accounts.txt")
  curl -sf -X POST "$URL/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$pass\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

ROWS=()
row() { ROWS+=("$(printf '| %-58s | %12s | %s |' "$1" "$2" "$3")"); }

# 1. Fresh system: idle memory, sustained submissions, latency at a fixed rate.
start "$WORK/fresh"
sleep 2
row "serve resident memory, idle (fresh)" "$(rss_mb) MB" "VmRSS"
TOKENS=$(for _ in $(seq 1 64); do
  # One answer per line (the JSON has no trailing newline).
  curl -sf -X POST "$URL/v1/auth/device" -H 'content-type: application/json' -d '{}'; echo
done | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' | paste -sd, -)
echo "wrk: ${SECS}s closed loop, 2 threads, 128 connections…" >&2
WRK=$(PHANANH_BENCH_TOKENS="$TOKENS" PHANANH_BENCH_RUN="$$" \
  wrk -t2 -c128 -d"${SECS}s" --latency -s scripts/bench/submit.lua "$URL")
RPS=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$WRK")
NON2XX=$(awk '/Non-2xx/ {print $NF}' <<<"$WRK"); NON2XX=${NON2XX:-0}
ERRS=$(awk '/Socket errors/ {print $0}' <<<"$WRK")
row "submissions/s sustained (wrk, fsync'd, budget ≥ 10,000)" "$RPS" "non-2xx: $NON2XX ${ERRS:+; $ERRS}"
sleep 3
echo "loadgen: ${RATE}/s for ${SECS}s…" >&2
OUT=$(with_peak_rss "$LOADGEN" submit "$URL" "$RATE" "$SECS")
row "submission latency at ${RATE}/s, p50 / p99 (budget p99 ≤ 25 ms)" \
  "$(field p50_ms "$OUT") / $(field p99_ms "$OUT") ms" \
  "achieved $(field achieved_rps "$OUT")/s, errors $(field errors "$OUT"), max $(field max_ms "$OUT") ms"
row "serve resident memory under ${RATE}/s (peak)" "$(peak) MB" "sampled every 0.25 s"
stop

# 2. At the stored count: the staff queue, a report, and memory.
echo "filling $STORED reports through the store (group commit)…" >&2
"$FILL" "$STORED" 1 "$WORK/big" >"$WORK/fill.out" 2>&1
start "$WORK/big"
sleep 2
row "serve resident memory, idle at $STORED reports" "$(rss_mb) MB" "VmRSS"
TOKEN=$(login ioc.head "$WORK/big")
IDS=$(curl -sf "$URL/v1/staff/reports?limit=200" -H "authorization: Bearer $TOKEN" |
  grep -o '"id":"[^"]*"' | sed 's/"id":"//; s/"//' | paste -sd, -)
OUT=$(with_peak_rss "$LOADGEN" get "$URL" "/v1/staff/reports?limit=50" "$TOKEN" "$READ_RATE" "$SECS")
row "staff queue (50 newest) at $STORED, p50 / p99 (budget ≤ 20 ms)" \
  "$(field p50_ms "$OUT") / $(field p99_ms "$OUT") ms" "${READ_RATE}/s, errors $(field errors "$OUT")"
OUT=$(PHANANH_BENCH_IDS="$IDS" "$LOADGEN" get "$URL" "/v1/staff/reports/{id}" "$TOKEN" "$READ_RATE" "$SECS")
row "one report (API) at $STORED, p50 / p99 (budget ≤ 20 ms)" \
  "$(field p50_ms "$OUT") / $(field p99_ms "$OUT") ms" "${READ_RATE}/s over 200 reports, errors $(field errors "$OUT")"
OUT=$(PHANANH_BENCH_IDS="$IDS" "$LOADGEN" get "$URL" "/console/reports/{id}" "$TOKEN" "$READ_RATE" "$SECS" "phananh_session=$TOKEN")
row "report page (console HTML) at $STORED, p50 / p99 (budget ≤ 20 ms)" \
  "$(field p50_ms "$OUT") / $(field p99_ms "$OUT") ms" "${READ_RATE}/s over 200 reports, errors $(field errors "$OUT")"
row "serve resident memory at $STORED reports, after reads (peak)" "$(peak) MB" "during the queue run"
stop

echo
echo "phananh bench — $(date -u +%Y-%m-%dT%H:%MZ) — $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) — $(git rev-parse --short HEAD)"
echo
printf '| %-58s | %12s | %s |\n' "measure" "value" "notes"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 60))" "$(printf -- '-%.0s' $(seq 14))" "-------"
printf '%s\n' "${ROWS[@]}"
