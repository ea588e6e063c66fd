#!/usr/bin/env bash
# Builds every libFuzzer harness with clang (ASan + UBSan) and runs each for
# a bounded time over its seed corpus. Prints TAP lines (ok / not ok per
# harness) for tests/run-all.sh to count.
#
#   tests/fuzz/run.sh [NAME...]        default: all; RG_FUZZ_SECONDS (default 60)
set -uo pipefail
cd "$(dirname "$0")/../.."

SECONDS_EACH=${RG_FUZZ_SECONDS:-60}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
# The report's style sheet and script, as the build embeds them.
python3 scripts/embed-text.py "$OUT/report_assets.c" \
  rg_report_css src/output/report.css rg_report_js src/output/report.js || exit 1

# name | sources besides the harness | extra flags and libraries
HARNESSES=(
  "reply|src/probe/reply.c src/probe/icmpext.c src/util/utf8.c src/probe/probe.c src/probe/quote.c src/engine/match.c src/engine/rematch.c src/model/result.c src/model/trace_store.c src/model/mpath.c src/model/unreach.c src/util/addr.c|"
  "icmpext|src/probe/icmpext.c src/probe/probe.c src/util/utf8.c src/util/addr.c|"
  "targets|src/cli/targets.c|"
  "target_reader|src/cli/target_reader.c src/cli/targets.c|"
  "asdb_csv|src/annotate/asdb.c src/annotate/asdb_build.c src/annotate/asdb_csv.c src/annotate/asdb_index.c src/util/atomic.c src/util/addr.c src/util/utf8.c|"
  "country_csv|src/annotate/country.c src/annotate/asdb.c src/annotate/asdb_build.c src/annotate/asdb_csv.c src/annotate/asdb_index.c src/util/atomic.c src/util/addr.c src/util/utf8.c|"
  "cymru_txt|src/annotate/dns_parse.c src/annotate/cymru.c src/util/addr.c src/util/utf8.c|-lcares"
  "writers|src/input/json_read.c src/probe/icmpext.c src/probe/probe.c src/graph/graph.c src/graph/asgraph.c src/output/dot.c src/output/asdot.c src/output/render.c src/output/svgcheck.c src/output/html.c src/output/html_changes.c src/output/middlebox.c src/watch/diff.c $OUT/report_assets.c src/output/table.c src/output/paths.c src/output/text.c src/output/json.c src/output/mpath_json.c src/output/jsonl.c src/output/jsonl_names.c src/output/json_stream.c src/annotate/dns.c src/annotate/dns_parse.c src/annotate/cymru.c src/util/atomic_stream.c src/model/middlebox.c src/model/compact.c src/probe/quote.c src/model/result.c src/model/trace_store.c src/model/mpath.c src/model/unreach.c src/model/infer.c src/util/addr.c src/util/utf8.c|$(pkg-config --cflags --libs jansson libgvc libcgraph 2>/dev/null) -lcares -lm -lpthread -DRG_VERSION=\"0.0.0\""
  "json_read|src/input/json_read.c src/probe/icmpext.c src/probe/probe.c src/graph/graph.c src/output/dot.c src/model/middlebox.c src/probe/quote.c src/model/result.c src/model/trace_store.c src/model/mpath.c src/model/unreach.c src/model/infer.c src/util/addr.c src/util/utf8.c|$(pkg-config --cflags --libs jansson libcgraph 2>/dev/null)"
)

want() { [ $# -eq 0 ] && return 0; local n=$1; shift; for w in "${SELECTED[@]}"; do [ "$w" = "$n" ] && return 0; done; return 1; }
SELECTED=("$@")
n=0
fail=0
for h in "${HARNESSES[@]}"; do
  IFS='|' read -r name srcs extra <<<"$h"
  if [ ${#SELECTED[@]} -gt 0 ] && ! want "$name" "${SELECTED[@]}"; then continue; fi
  n=$((n + 1))
  bin="$OUT/fuzz_$name"
  corpus="$OUT/corpus_$name"
  mkdir -p "$corpus"
  # shellcheck disable=SC2086 # word splitting of the lists is intended
  if ! clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
       -D_GNU_SOURCE -Isrc "tests/fuzz/fuzz_$name.c" $srcs $extra -o "$bin" >"$OUT/build_$name.log" 2>&1; then
    echo "not ok $n - fuzz_$name (build)"; sed 's/^/#   /' "$OUT/build_$name.log" | tail -n 20
    fail=$((fail + 1)); continue
  fi
  log="$OUT/run_$name.log"
  if UBSAN_OPTIONS=halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
     timeout $((SECONDS_EACH + 60)) "$bin" -max_total_time="$SECONDS_EACH" -max_len=65536 \
       -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$OUT/${name}-" \
       "$corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    echo "ok $n - fuzz_$name (${SECONDS_EACH}s, ${runs:-?} inputs)"
  else
    echo "not ok $n - fuzz_$name"; grep -E 'ERROR|SUMMARY|runtime error|deadly|#[0-9]+ 0x' "$log" | head -n 20 | sed 's/^/#   /'
    # The input that failed, so a CI log is enough to reproduce it (the
    # artifacts themselves stay out of the checkout).
    for a in "$OUT/${name}-"*; do
      [ -f "$a" ] && echo "#   input $(basename "$a") (base64): $(head -c 4096 "$a" | base64 -w0)"
    done
    fail=$((fail + 1))
  fi
done
echo "1..$n"
[ "$fail" -eq 0 ]
