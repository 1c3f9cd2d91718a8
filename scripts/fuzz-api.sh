#!/usr/bin/env bash
# schemathesis (PyPI) against the running embedded API with the OpenAPI document it serves:
# every operation gets generated requests (valid and invalid ones), and the run fails on any
# 5xx, on a response the document does not describe (status, content type, schema), and on a
# request the document admits that the server refuses (`positive_data_acceptance`).
#
#   scripts/fuzz-api.sh            # CI: about 500 requests
#   scripts/fuzz-api.sh --long     # 5,000+ requests: 100 examples per operation (PHANANH_FUZZ_API_EXAMPLES)
#
# Starts `phananh serve` on a free 127.0.0.1 port with a fresh data directory and the shipped
# Lai Châu config with rate limits off (schemathesis is one client sending thousands of
# requests), signs in as the seeded demo IOC head (staff operations) and takes an anonymous
# device token (citizen operations) and signs in as the demo office administrator (account
# operations), then runs schemathesis once per token.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/phananh/target}"

examples="${PHANANH_FUZZ_API_EXAMPLES:-}"
if [ "${1:-}" = "--long" ]; then
  examples="${examples:-100}"
else
  examples="${examples:-6}"
fi
seed="${PHANANH_FUZZ_API_SEED:-$(( $(date +%s) % 100000 ))}"

VENV="$(scripts/tools.sh | tail -n 1)"
ST="$VENV/bin/schemathesis"
[ -x "$ST" ] || "$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'

bin="${PHANANH_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --quiet -p phananh --bin phananh
  bin="$CARGO_TARGET_DIR/debug/phananh"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/phananh-fuzz-api.XXXXXX")"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/config" "$work/data"
cp config/laichau/*.toml "$work/config/"
printf '\n[rate_limits]\nenabled = false\n' >>"$work/config/city.toml"

RUST_LOG=error "$bin" --config "$work/config" --data "$work/data" serve --bind 127.0.0.1:0 \
  >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
base=""
for _ in $(seq 1 300); do
  base="$(sed -n 's/^phananh đang chạy tại //p' "$work/serve.out" | head -n 1 | tr -d '[:space:]')"
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err"; echo "serve exited"; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { echo "serve did not print its address"; exit 1; }
echo "serve at $base"

password() { awk -v u="$1" '$1 == u { print $4 }' "$work/data/demo-accounts.txt"; }
# GET (no body) or POST (JSON body, possibly empty) with the venv's Python: no curl needed.
http() { # method url [json body]
  "$VENV/bin/python3" - "$@" <<'PY'
import json, sys, urllib.request
method, url = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else (b"" if method == "POST" else None)
req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
print(urllib.request.urlopen(req, timeout=30).read().decode())
PY
}
field() { "$VENV/bin/python3" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
login() { http POST "$base/v1/auth/login" "{\"username\":\"$1\",\"password\":\"$(password "$1")\"}" | field access_token; }
staff_token="$(login ioc.head)"
office_token="$(login office)"
citizen_token="$(http POST "$base/v1/auth/device" | field access_token)"

# The values no schema can describe (issued cursors, the city's category codes): see the hooks.
export SCHEMATHESIS_HOOKS="$PWD/scripts/fuzz-api-hooks.py"
PHANANH_FUZZ_CATEGORIES="$(http GET "$base/v1/categories" | "$VENV/bin/python3" -c \
  'import json,sys; d=json.load(sys.stdin); d=d.get("items", d) if isinstance(d, dict) else d; print(",".join(c["code"] for c in d))')"
export PHANANH_FUZZ_CATEGORIES
PHANANH_FUZZ_UNITS="$(http GET "$base/v1/units" | "$VENV/bin/python3" -c \
  'import json,sys; d=json.load(sys.stdin); d=d.get("items", d) if isinstance(d, dict) else d; print(",".join(u.get("id") or u["code"] for u in d))')"
export PHANANH_FUZZ_UNITS

checks="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,positive_data_acceptance"
# The document the server serves; PHANANH_FUZZ_API_SCHEMA=api/openapi.yaml tries an edited
# document against the running binary without rebuilding it.
repo="$PWD"
schema="${PHANANH_FUZZ_API_SCHEMA:-$base/v1/openapi.yaml}"
case "$schema" in http*|/*) ;; *) schema="$repo/$schema" ;; esac
run() { # name token [filters...]
  local name="$1" token="$2"
  shift 2
  echo "==> schemathesis as $name: $examples examples per operation, seed $seed"
  # From the scratch directory: schemathesis keeps its cache in the working directory.
  (cd "$work" && PHANANH_FUZZ_ROLE="$name" "$ST" --config-file "$repo/api/schemathesis.toml" run "$schema" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks "$checks" \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" \
    --seed "$seed" \
    --workers 1 \
    --request-timeout 10 \
    --suppress-health-check all \
    --no-color \
    "$@") 2>&1 | tee "$work/$name.log"
}
# Ending one's own sessions (revokeSessions) would end the fuzzer's token too: it runs last.
run staff "$staff_token" --exclude-tag citizen --exclude-operation-id revokeSessions
run citizen "$citizen_token" --include-tag citizen
run office "$office_token" --include-tag admin --exclude-operation-id revokeSessions
run staff-last "$staff_token" --include-operation-id revokeSessions
total=$(cat "$work"/*.log | grep -Eo '[0-9]+ generated' | awk '{s+=$1} END {print s+0}')
echo "schemathesis: $total requests generated, seed $seed, $examples examples per operation; no failure"
