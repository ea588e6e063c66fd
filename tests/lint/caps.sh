#!/usr/bin/env bash
# Lint: capability and uid-changing calls may appear only in
# src/engine/privs.c, the one file that drops privileges (mtr keeps the same
# rule). Prints TAP. The lint first proves on a planted file that it can fail.
set -uo pipefail
cd "$(dirname "$0")/../.."

PATTERN='\b(cap_[a-z_]+|capset|capget|setuid|setgid|seteuid|setegid|setreuid|setregid|setresuid|setresgid|setgroups|setfsuid|setfsgid)[[:space:]]*\(|sys/capability\.h|PR_CAP|PR_SET_KEEPCAPS|PR_SET_NO_NEW_PRIVS'

offenders() { # dir
  grep -rnE "$PATTERN" "$1" --include='*.c' --include='*.h' | grep -v '^src/engine/privs\.[ch]:' || true
}

n=0
n=$((n + 1))
plant=$(mktemp -d)
mkdir -p "$plant/src/output"
printf 'void f(void) { setuid(0); }\n' >"$plant/src/output/bad.c"
if (cd "$plant" && offenders src | grep -q bad.c); then
  echo "ok $n - lint catches a planted setuid() outside privs.c"
else
  echo "not ok $n - lint missed a planted setuid()"
fi
rm -rf "$plant"

n=$((n + 1))
found=$(offenders src)
if [ -z "$found" ]; then
  echo "ok $n - capability and uid calls only in src/engine/privs.c"
else
  echo "not ok $n - capability or uid calls outside src/engine/privs.c"
  printf '%s\n' "$found" | sed 's/^/#   /'
fi
echo "1..$n"
