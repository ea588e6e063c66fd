#!/usr/bin/env bash
# The test command. Installs what is missing, builds, and runs every test:
#   unit tests (cmocka) plain, under ASan+UBSan and under valgrind memcheck;
#   a release build, as packagers build, and its unit tests, and a clang
#   build (every build here has -Dwerror=true: a warning fails the test
#   command, while meson.build leaves -Werror to whoever builds); the bash
#   completion; the Debian package, built, linted, installed and purged; the
#   lints; the lab's and the benchmark's pure Python tests (tests/lab:
#   topology.json against every derived file); the integration tests with
#   real packets in the lab, with routegraph plain, under ASan+UBSan and
#   under valgrind memcheck;
#   every fuzz harness for a bounded time under ASan+UBSan.
# Ends with "N passed, N failed" and exits non-zero on any failure.
# Run as root on Debian 12 (the lab needs network namespaces).
# RG_FUZZ_SECONDS (default 60) bounds each fuzz harness.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${RG_BUILD_DIR:-build}
ASAN_BUILD=${RG_ASAN_BUILD_DIR:-build-asan}
RELEASE_BUILD=${RG_RELEASE_BUILD_DIR:-build-release}
CLANG_BUILD=${RG_CLANG_BUILD_DIR:-build-clang}
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
passed=0
failed=0
failures=()

SAN_ENV=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0
         "LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
         UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)
VALGRIND="valgrind --quiet --vgdb=no --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$ROOT/tests/valgrind.supp"

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

run_tap() { # label, command...: runs it, shows its output, counts its TAP lines
  local label=$1 out rc
  shift
  out=$(mktemp)
  "$@" >"$out" 2>&1
  rc=$?
  cat "$out"
  count_tap "$label" "$out" "$rc"
  rm -f "$out"
}

run_units() { # build dir, label, wrapper command (may be empty)...
  local dir=$1 label=$2 t
  shift 2
  for t in "$dir"/tests/unit/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    run_tap "$label $(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP timeout 600 "$@" "$t"
  done
}

setup_build() { # dir, meson options...
  local dir=$1 log
  shift
  log="$LOGS/build-$(basename "$dir").log"
  { meson setup --wipe "$dir" "$@" >"$log" 2>&1 || meson setup "$dir" "$@" >"$log" 2>&1; } &&
    ninja -C "$dir" >>"$log" 2>&1
}

step() { printf '\n== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }

step "build ($BUILD, $ASAN_BUILD)"
if ! setup_build "$BUILD" -Dwerror=true ||
   ! setup_build "$ASAN_BUILD" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false; then
  tail -n 40 "$LOGS"/build-*.log
  echo "0 passed, 1 failed"
  exit 1
fi

step "offline AS data (scripts/fetch-asn-data.sh)"
# Not fatal: without it the tests of facts from the real data say they skip.
RG_BUILD_DIR=$BUILD scripts/fetch-asn-data.sh || echo "AS data not installed; real-data tests will skip"

step "unit tests"
run_units "$BUILD" unit

step "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
run_units "$ASAN_BUILD" asan env "${SAN_ENV[@]}"

step "unit tests under valgrind memcheck"
# shellcheck disable=SC2086 # the options are words
run_units "$BUILD" valgrind $VALGRIND

step "release build ($RELEASE_BUILD: -Dbuildtype=release -Dwerror=true) and its unit tests"
if setup_build "$RELEASE_BUILD" -Dbuildtype=release -Dwerror=true; then
  echo "ok - release build compiles warning-free"
  passed=$((passed + 1))
  run_units "$RELEASE_BUILD" release
else
  echo "not ok - release build compiles warning-free"
  tail -n 40 "$LOGS/build-$(basename "$RELEASE_BUILD").log"
  failed=$((failed + 1))
  failures+=("release build")
fi

step "clang build ($CLANG_BUILD: CC=clang -Dwerror=true), compile only"
# Clang warns where GCC does not (-Wstring-concatenation, for one).
if CC=clang setup_build "$CLANG_BUILD" -Dwerror=true; then
  echo "ok - clang build compiles warning-free"
  passed=$((passed + 1))
else
  echo "not ok - clang build compiles warning-free"
  grep -E -A6 'error:|warning:' "$LOGS/build-$(basename "$CLANG_BUILD").log" | head -n 40
  failed=$((failed + 1))
  failures+=("clang build")
fi

step "bash completion (completion/routegraph.bash)"
run_tap completion tests/completion/run.sh "$BUILD/routegraph"

step "Debian package: build, lintian, install, check, purge"
run_tap package timeout 1200 tests/package/run.sh

step "lint: capability calls only in src/engine/privs.c"
run_tap lint tests/lint/caps.sh

step "lint: no include points up the stack"
run_tap lint-includes tests/lint/includes.sh

step "lint: the HTML report's script and style sheet"
run_tap lint-report tests/lint/report-assets.sh

step "lab and bench: topology.json against every file derived from it (no lab needed)"
run_tap lab-topology python3 tests/lab/run.py

step "integration tests in the lab"
run_tap integration timeout 900 python3 tests/integration/run.py --build "$BUILD"

step "integration tests in the lab, routegraph under ASan+UBSan"
run_tap integration-asan env "${SAN_ENV[@]}" timeout 900 \
  python3 tests/integration/run.py --build "$ASAN_BUILD"

step "integration tests in the lab, routegraph under valgrind memcheck"
run_tap integration-valgrind timeout 1800 python3 tests/integration/run.py --build "$BUILD" \
  --wrap "$VALGRIND"

step "fuzzing: every parser of outside input, ${RG_FUZZ_SECONDS:-60}s each, ASan+UBSan"
run_tap fuzz tests/fuzz/run.sh

echo
if [ "${#failures[@]}" -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
