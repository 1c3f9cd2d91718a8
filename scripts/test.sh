#!/usr/bin/env bash
# The whole test suite: format, lint, every crate's tests (core rules, both runtimes' adapter
# contracts, the embedded end-to-end suite, the AWS functions against the local emulator),
# the SAM template lint, and the Lambda release builds. Installs what it needs by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
# Builds are reused across clones and CI runs from a target dir outside the clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/phananh/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export SAM_CLI_TELEMETRY=0

step() { printf '\n==> %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

step "tools: moto, cargo-lambda, aws-sam-cli, cfn-lint, schemathesis (pip, cached)"
VENV="$(scripts/tools.sh | tail -n 1)"
export PHANANH_TOOLS_DIR="$(dirname "$VENV")"
# cargo-lambda finds zig through the first python3 on PATH: the venv's.
export PATH="$VENV/bin:$PATH"
command -v cargo >/dev/null || { echo "cargo is required (rustup)"; exit 1; }
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

step "browser for the console tests: Debian's chromium + chromium-driver (apt-get, once)"
if ! command -v chromedriver >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
chromium --version 2>/dev/null || true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (all crates; AWS tests start moto on 127.0.0.1 themselves)"
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "${TMPDIR:-/tmp}/phananh-test.log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || { echo "cargo test failed"; exit "$status"; }

step "API fuzz: schemathesis against serve with its OpenAPI document (short; --long: 5,000+)"
scripts/fuzz-api.sh

if [ -f template.yaml ]; then
  step "cfn-lint template.yaml"
  cfn-lint template.yaml
  step "sam validate --lint"
  sam validate --lint --region ap-southeast-1 --template-file template.yaml
fi

if ls functions/*/Cargo.toml >/dev/null 2>&1; then
  step "cargo lambda build --release (x86_64; the template's production default is arm64)"
  fn_packages=()
  for d in functions/*/; do
    name=$(basename "$d")
    [ "$name" = common ] || fn_packages+=(-p "phananh-fn-$name")
  done
  cargo lambda build --release --x86-64 --locked --lambda-dir "$CARGO_TARGET_DIR/lambda" "${fn_packages[@]}"
  for b in "$CARGO_TARGET_DIR"/lambda/*/bootstrap; do
    printf '%8d KB  %s\n' "$(( $(stat -c %s "$b") / 1024 ))" "$(basename "$(dirname "$b")")"
  done
fi

# One closing line a CI reader can count on.
passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "${TMPDIR:-/tmp}/phananh-test.log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "${TMPDIR:-/tmp}/phananh-test.log" | awk '{s+=$1} END {print s+0}')
echo
echo "${passed} passed, ${failed} failed"
