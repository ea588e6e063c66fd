#!/usr/bin/env bash
# The bash completion (completion/routegraph.bash), loaded the way bash loads
# it and asked for completions with COMP_WORDS set as bash sets them, against
# the built program; and its lists checked against --help and the man page so
# they cannot drift. TAP output.
#   tests/completion/run.sh BUILD_DIR/routegraph
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RG=${1:?usage: tests/completion/run.sh PATH/TO/routegraph}
RG=$(cd "$(dirname "$RG")" && pwd)/$(basename "$RG")
[ -x "$RG" ] || { echo "not ok 1 - $RG is not an executable"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=completion/routegraph.bash
source "$ROOT/completion/routegraph.bash"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; printf '#   %s\n' "$@"; }

# complete WORD... : the completions bash would offer with the cursor at the
# end of the last word (empty string: a new word), sorted, one per line.
complete_words() {
  COMP_WORDS=("$RG" "$@")
  COMP_CWORD=$(($# ))
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _routegraph
  printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | LC_ALL=C sort -u
}

oneline() { tr '\n' ' ' <<<"$1"; }

expect() { # description, expected (newline-separated, sorted), words...
  local what=$1 want=$2 got
  shift 2
  got=$(complete_words "$@")
  if [ "$got" = "$want" ]; then ok "$what"; else
    not_ok "$what" "words: $*" "want: $(oneline "$want")" "got:  $(oneline "$got")"
  fi
}

expect_has() { # description, one expected completion, words...
  local what=$1 want=$2 got
  shift 2
  got=$(complete_words "$@")
  if grep -qxF -- "$want" <<<"$got"; then ok "$what"; else
    not_ok "$what" "words: $*" "want among them: $want" "got: $(oneline "$got")"
  fi
}

spec=$(complete -p routegraph 2>&1)
if [ "$spec" = "complete -F _routegraph routegraph" ]; then ok "complete -p routegraph names _routegraph"
else not_ok "complete -p routegraph names _routegraph" "got: $spec"; fi

expect "--for completes to --format" "--format" --for
expect "--max offers --max-inflight and --max-ttl" "$(printf '%s\n' --max-inflight --max-ttl)" --max
expect "--max-t completes to --max-ttl" "--max-ttl" --max-t
expect "--format values" "$(printf '%s\n' all dot html json jsonl png svg table)" --format ""
expect "--format s" "svg" --format s
expect "--format svg,p keeps svg," "svg,png" --format svg,p
expect "--format=h (split at '=' as bash does)" "html" --format = h
expect "--asn-source offline,c" "offline,cymru" --asn-source offline,c
expect "-P values" "$(printf '%s\n' icmp tcp udp)" -P ""
expect "--protocol i" "icmp" --protocol i
expect "-p takes a port list: nothing offered" "" -p ""
expect "--rate takes a number: nothing offered" "" --rate ""
expect_has "first word: the render subcommand" render re

mkdir -p "$WORK/d/sub"
: >"$WORK/d/run.json"
: >"$WORK/d/notes.txt"
: >"$WORK/d/my run.json"
: >"$WORK/d/geo.mmdb"
expect "render completes JSON files and directories" \
  "$(printf '%s\n' "$WORK/d/my run.json" "$WORK/d/run.json" "$WORK/d/sub")" render "$WORK/d/"
expect "diff completes JSON files and directories" \
  "$(printf '%s\n' "$WORK/d/my run.json" "$WORK/d/run.json" "$WORK/d/sub")" diff "$WORK/d/run.json" "$WORK/d/"
expect "render options come from --help" "--format" render --form
expect "-f completes any file" "$WORK/d/notes.txt" -f "$WORK/d/n"
expect "-o completes file names" "$WORK/d/geo.mmdb" -o "$WORK/d/g"
expect "--mmdb completes .mmdb files and directories" \
  "$(printf '%s\n' "$WORK/d/geo.mmdb" "$WORK/d/sub")" --mmdb "$WORK/d/"
: >"$WORK/d/asn-ipv4.csv"
: >"$WORK/d/asn.rgidx"
expect "--asn-db completes CSV files, indexes and directories" \
  "$(printf '%s\n' "$WORK/d/asn-ipv4.csv" "$WORK/d/asn.rgidx" "$WORK/d/sub")" --asn-db "$WORK/d/"
expect "a target after -- is not an option" "" -- --for

# Every long option --help mentions is offered, and nothing else.
help_longs=$("$RG" --help | grep -oE -- '--[a-z][a-z0-9-]*' | LC_ALL=C sort -u)
offered=$(complete_words "--" | LC_ALL=C sort -u)
if [ -n "$help_longs" ] && [ "$offered" = "$help_longs" ]; then
  ok "the long options offered are exactly those in --help ($(wc -l <<<"$offered"))"
else
  not_ok "the long options offered are exactly those in --help" \
    "only in --help: $(comm -23 <(echo "$help_longs") <(echo "$offered") | tr '\n' ' ')" \
    "only offered: $(comm -13 <(echo "$help_longs") <(echo "$offered") | tr '\n' ' ')"
fi
shorts=$(complete_words "-" | grep -E '^-[^-]$' | tr '\n' ' ')
missing=""
for s in -p -w -r -f -o -n -q -4 -6 -h -V; do
  [[ " $shorts" == *" $s "* ]] || missing+=" $s"
done
if [ -z "$missing" ]; then ok "short options offered: $shorts"
else not_ok "short options offered" "missing:$missing" "got: $shorts"; fi

# The subcommands: those the man page documents ("routegraph WORD" in bold,
# or WORD in bold right after ".SY routegraph") are those offered as the
# first word (less the host names offered there too).
man_subs=$(awk '{ gsub(/"/, "") }
                /^\.(B|BR|SY) routegraph [a-z]/ { print $3 }
                prev ~ /^\.SY routegraph$/ && /^\.B [a-z]/ { print $2 }
                { prev = $0 }' "$ROOT/docs/routegraph.1" | LC_ALL=C sort -u)
offered=$(comm -23 <(complete_words "") <(compgen -A hostname | LC_ALL=C sort -u))
if [ -n "$man_subs" ] && [ "$man_subs" = "$offered" ]; then
  ok "subcommands offered are the man page's: $(oneline "$offered")"
else
  not_ok "subcommands offered are the man page's" "man page: $(oneline "$man_subs")" \
    "offered: $(oneline "$offered")" "(a subcommand --help's usage lines do not show goes into _routegraph_subcommands)"
fi

# The formats: the completion's list is the one --help gives.
help_formats=$("$RG" --help | tr '\n' ' ' | grep -oE -- '--format LIST +comma list of [a-z, ]+' |
  sed 's/.*comma list of//' | tr -s ', ' '\n' | sed '/^$/d' | LC_ALL=C sort -u)
# shellcheck disable=SC2154 # set by the completion file
listed=$(tr ' ' '\n' <<<"$_routegraph_formats" | LC_ALL=C sort -u)
if [ -n "$help_formats" ] && [ "$help_formats" = "$listed" ]; then
  ok "--format values are those --help lists: $(oneline "$listed")"
else
  not_ok "--format values are those --help lists" "--help: $(oneline "$help_formats")" \
    "completion: $(oneline "$listed")"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
