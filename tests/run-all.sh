#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test:
# unit tests (plain and under ASan+UBSan), then the integration tests with
# real packets in the lab. Ends with "N passed, N failed"; exits non-zero
# on any failure. Run as root on Debian 12 (the lab needs network namespaces).
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${RG_BUILD_DIR:-build}
ASAN_BUILD=${RG_ASAN_BUILD_DIR:-build-asan}
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
passed=0
failed=0
failures=()

count_tap() { # name, file with TAP output, exit status
  local name=$1 file=$2 rc=$3 ok bad
  ok=$(grep -c '^ok ' "$file" || true)
  bad=$(grep -c '^not ok ' "$file" || true)
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    bad=1 # crashed or died before reporting
  fi
  passed=$((passed + ok))
  failed=$((failed + bad))
  if [ "$bad" -gt 0 ]; then
    failures+=("$name")
    sed -n '/^not ok/,+6p' "$file" | head -n 40
    [ "$rc" -ne 0 ] && tail -n 30 "$file"
  fi
}

step() { printf '\n== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }

step "build ($BUILD)"
if ! { meson setup --wipe "$BUILD" >/dev/null 2>&1 || meson setup "$BUILD" >/dev/null; } ||
   ! ninja -C "$BUILD" >"$LOGS/build.log" 2>&1; then
  cat "$LOGS/build.log" 2>/dev/null | tail -n 40
  echo "0 passed, 1 failed"
  exit 1
fi

step "offline AS data (scripts/fetch-asn-data.sh)"
# Not fatal: without it the tests of facts from the real data say they skip.
RG_BUILD_DIR=$BUILD scripts/fetch-asn-data.sh || echo "AS data not installed; real-data tests will skip"

run_units() { # build dir, label
  local dir=$1 label=$2 t out rc
  for t in "$dir"/tests/unit/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    out=$(mktemp)
    CMOCKA_MESSAGE_OUTPUT=TAP timeout 120 "$t" >"$out" 2>&1
    rc=$?
    count_tap "$label $(basename "$t")" "$out" "$rc"
    rm -f "$out"
  done
}

step "unit tests"
run_units "$BUILD" unit

step "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
if { meson setup --wipe "$ASAN_BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
       >/dev/null 2>&1 || meson setup "$ASAN_BUILD" -Db_sanitize=address,undefined \
       -Db_lundef=false >/dev/null; } && ninja -C "$ASAN_BUILD" >"$LOGS/asan-build.log" 2>&1; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_units "$ASAN_BUILD" asan
else
  tail -n 40 "$LOGS/asan-build.log"
  failed=$((failed + 1)); failures+=("asan build")
fi

step "integration tests in the lab"
out=$(mktemp)
RG_BUILD_DIR=$BUILD timeout 900 python3 tests/integration/run.py --build "$BUILD" >"$out" 2>&1
rc=$?
cat "$out"
count_tap integration "$out" "$rc"
rm -f "$out"

echo
if [ "${#failures[@]}" -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
