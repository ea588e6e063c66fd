#!/usr/bin/env bash
# Lint: the HTML report's script and style sheet (src/output/report.js,
# src/output/report.css), which the build embeds in the binary. The script
# must parse (node --check); the style sheet must have balanced braces,
# comments and quotes, and neither may hold "</" (it would end its element).
# Prints TAP. Each check first proves on a planted file that it can fail.
set -uo pipefail
cd "$(dirname "$0")/../.."

css_ok() { # file: balanced { } outside comments and strings, no "</"
  python3 - "$1" <<'PY'
import sys
t = open(sys.argv[1], encoding="utf-8").read()
if "</" in t:
    sys.exit("holds </")
depth, i, n = 0, 0, len(t)
while i < n:
    if t.startswith("/*", i):
        j = t.find("*/", i + 2)
        if j < 0:
            sys.exit("unterminated comment")
        i = j + 2
        continue
    c = t[i]
    if c in "\"'":
        j = t.find(c, i + 1)
        if j < 0 or "\n" in t[i:j]:
            sys.exit(f"unterminated string at offset {i}")
        i = j + 1
        continue
    depth += (c == "{") - (c == "}")
    if depth < 0:
        sys.exit(f"unbalanced }} at offset {i}")
    i += 1
if depth:
    sys.exit("unbalanced {")
PY
}

js_ok() { # file
  ! grep -q '</' "$1" && node --check "$1" 2>&1
}

n=0
plant=$(mktemp -d)
trap 'rm -rf "$plant"' EXIT
printf 'function f() { return 1;\n' >"$plant/bad.js"
printf 'a{color:red}\nb{color:blue\n' >"$plant/bad.css"

n=$((n + 1))
if ! js_ok "$plant/bad.js" >/dev/null; then
  echo "ok $n - lint catches a planted unbalanced script"
else
  echo "not ok $n - lint missed a planted unbalanced script"
fi
n=$((n + 1))
if ! css_ok "$plant/bad.css" 2>/dev/null; then
  echo "ok $n - lint catches a planted unbalanced style sheet"
else
  echo "not ok $n - lint missed a planted unbalanced style sheet"
fi

n=$((n + 1))
if out=$(js_ok src/output/report.js); then
  echo "ok $n - src/output/report.js parses (node --check)"
else
  echo "not ok $n - src/output/report.js"
  printf '%s\n' "$out" | sed 's/^/#   /'
fi
n=$((n + 1))
if out=$(css_ok src/output/report.css 2>&1); then
  echo "ok $n - src/output/report.css is balanced"
else
  echo "not ok $n - src/output/report.css: $out"
fi
echo "1..$n"
