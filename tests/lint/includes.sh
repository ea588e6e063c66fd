#!/usr/bin/env bash
# Lint: includes never point up the stack (ARCHITECTURE.md, "Modules"). A
# stage may include the stages whose output it takes, never a later one:
#   util      includes nothing of ours
#   probe     (the packet codec) only util
#   model     only probe and util
#   cli       only model and util (besides itself)
#   annotate  no engine, graph, input or output
# Prints TAP. The lint first proves on a planted file that it can fail.
set -uo pipefail
cd "$(dirname "$0")/../.."

FORBIDDEN=(
  "util:cli engine probe model annotate graph input output"
  "probe:cli engine model annotate graph input output"
  "model:cli engine annotate graph input output"
  "cli:engine probe annotate graph input output"
  "annotate:engine graph input output"
)

offenders() { # root
  local rule dir bad b
  for rule in "${FORBIDDEN[@]}"; do
    dir=${rule%%:*}
    bad=${rule#*:}
    [ -d "$1/src/$dir" ] || continue
    for b in $bad; do
      grep -rnE "#include \"(\.\./)?$b/" "$1/src/$dir" --include='*.c' --include='*.h' || true
    done
  done
}

n=1
plant=$(mktemp -d)
trap 'rm -rf "$plant"' EXIT
mkdir -p "$plant/src/probe"
printf '#include "../model/result.h"\n' >"$plant/src/probe/bad.c"
if offenders "$plant" | grep -q bad.c; then
  echo "ok $n - lint catches a planted probe -> model include"
else
  echo "not ok $n - lint missed a planted probe -> model include"
fi

n=$((n + 1))
found=$(offenders .)
if [ -z "$found" ]; then
  echo "ok $n - no include points up the stack"
else
  echo "not ok $n - includes pointing up the stack"
  printf '%s\n' "$found" | sed 's/^/#   /'
fi
echo "1..$n"
