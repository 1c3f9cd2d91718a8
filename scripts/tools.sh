#!/usr/bin/env bash
# Installs the external tools the test suite needs into a cache outside the clone:
# moto (local AWS-API emulator), cargo-lambda (+ zig), aws-sam-cli, cfn-lint, georeport
# (a third-party Open311 GeoReport v2 client, driven against our /open311/v2 by a test), and
# schemathesis (the API fuzzer of scripts/fuzz-api.sh).
# Idempotent: a second run only checks what is there.
set -euo pipefail
TOOLS_DIR="${PHANANH_TOOLS_DIR:-$HOME/.cache/phananh/tools}"
VENV="$TOOLS_DIR/venv"
mkdir -p "$TOOLS_DIR"
if [ ! -x "$VENV/bin/python3" ]; then
  python3 -m venv "$VENV"
fi
need=()
[ -x "$VENV/bin/moto_server" ] || need+=('moto[server]')
[ -x "$VENV/bin/cargo-lambda" ] || need+=(cargo-lambda)
[ -x "$VENV/bin/sam" ] || need+=(aws-sam-cli)
[ -x "$VENV/bin/cfn-lint" ] || need+=(cfn-lint)
[ -x "$VENV/bin/schemathesis" ] || need+=('schemathesis>=4,<5')
"$VENV/bin/python3" -c 'import georeport' 2>/dev/null || need+=('georeport==0.3.1')
if [ ${#need[@]} -gt 0 ]; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${need[@]}"
fi
echo "$VENV"
