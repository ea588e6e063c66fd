#!/usr/bin/env bash
# The Debian package (debian/): built from a copy of the tree with
# "dpkg-buildpackage -b -us -uc", checked with lintian, installed, checked
# (binary, capability, man pages, completion, the AS data fetcher and its
# index compiler), purged, and checked gone. The checkout is left as it was:
# dpkg-buildpackage writes beside the tree, so the tree is copied first.
# Needs root (it installs the package). TAP output.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PKG=routegraph
APT=(apt-get -y -q -o DPkg::Lock::Timeout=300)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rg-package.XXXXXX")
installed=0
n=0
failed=0

cleanup() {
  [ "$installed" -eq 1 ] && "${APT[@]}" purge "$PKG" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; printf '#   %s\n' "$@"; }
check() { # description, command...: ok when the command succeeds
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$what"; else not_ok "$what" "$*" "${out:0:400}"; fi
}
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; exit; }

[ "$(id -u)" -eq 0 ] || { echo "not ok 1 - the package test installs a package: run it as root"; exit 1; }

version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$ROOT/meson.build" | head -n1)
src="$WORK/$PKG-$version"
mkdir -p "$src"

# The tree as it is (tracked files and new ones, not what .gitignore names);
# outside a git checkout, everything but build directories.
copy_tree() {
  if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
      tar --null -T - -cf -) | tar -xf - -C "$src"
  else
    (cd "$ROOT" && tar --exclude='./build*' --exclude=./out -cf - .) | tar -xf - -C "$src"
  fi
}
check "copy of the tree in a temporary directory" copy_tree

changelog_version=$(cd "$src" && dpkg-parsechangelog -S Version)
if [ "$changelog_version" = "$version" ]; then
  ok "debian/changelog's version is meson.build's ($version)"
else
  not_ok "debian/changelog's version is meson.build's" "changelog: $changelog_version" "meson.build: $version"
fi

# Every pkg-config dependency the meson files ask for comes from a package
# debian/control's Build-Depends names (a clean build machine has only those).
build_depends=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") }
                     on && /^[A-Z][A-Za-z-]*:/ && !/^Build-Depends:/ { on = 0 }
                     on' "$src/debian/control" | tr ',' '\n' | sed 's/[[:space:]]//g; s/[(<:].*//' | sed '/^$/d')
undeclared=""
# shellcheck disable=SC2013 # the names are single words
for dep in $(grep -ohE "dependency\('[^']+'" "$src/meson.build" "$src"/tests/*/meson.build |
             sed "s/dependency('//; s/'//" | sort -u); do
  [ "$dep" = threads ] && continue # the C library's, no package
  pc=$(pkg-config --path "$dep" 2>/dev/null) || { undeclared+=" $dep(no .pc here)"; continue; }
  owner=$(dpkg -S "$(readlink -f "$pc")" 2>/dev/null | head -n1 | cut -d: -f1)
  grep -qxF "$owner" <<<"$build_depends" || undeclared+=" $dep($owner)"
done
if [ -z "$undeclared" ]; then ok "Build-Depends names the package of every meson dependency()"
else not_ok "Build-Depends names the package of every meson dependency()" "missing:$undeclared"; fi

build_log="$WORK/build.log"
if (cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -b -us -uc) >"$build_log" 2>&1; then
  ok "dpkg-buildpackage -b -us -uc"
else
  not_ok "dpkg-buildpackage -b -us -uc" "$(tail -n 30 "$build_log")"
  finish
fi
arch=$(dpkg --print-architecture)
deb="$WORK/${PKG}_${version}_${arch}.deb"
changes="$WORK/${PKG}_${version}_${arch}.changes"
check "the .deb is there" test -s "$deb"

# lintian: any error or warning fails; info and pedantic tags are shown.
lintian --display-info --pedantic --fail-on error,warning "$changes" >"$WORK/lintian.out" 2>&1
lint_rc=$?
lint=$(grep -v 'running with root privileges' "$WORK/lintian.out")
if [ "$lint_rc" -eq 0 ] && ! grep -qE '^[EW]: ' <<<"$lint"; then
  ok "lintian: no error or warning, $(grep -cE '^[IPX]: ' <<<"$lint") other tags"
  [ -n "$lint" ] && printf '#   %s\n' "$lint"
else
  not_ok "lintian: no error or warning" "$lint"
fi

contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|')
for f in /usr/bin/routegraph /usr/sbin/routegraph-fetch-asn-data /usr/libexec/routegraph/bench_asdb \
         /usr/share/man/man1/routegraph.1.gz /usr/share/man/man8/routegraph-fetch-asn-data.8.gz \
         /usr/share/bash-completion/completions/routegraph /usr/share/doc/routegraph/copyright \
         /usr/share/doc/routegraph/README.md.gz /usr/share/doc/routegraph/json-schema.md.gz; do
  if grep -qxF "$f" <<<"$contents"; then ok "the package holds $f"; else not_ok "the package holds $f" "$contents"; fi
done

if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'ok installed'; then
  echo "# $PKG was already installed (an earlier run?); it is purged first"
  "${APT[@]}" purge "$PKG" >/dev/null 2>&1
fi
install_log="$WORK/install.log"
if "${APT[@]}" install "$deb" >"$install_log" 2>&1; then
  installed=1
  ok "apt-get install ./${PKG}_${version}_${arch}.deb"
else
  not_ok "apt-get install ./${PKG}_${version}_${arch}.deb" "$(tail -n 20 "$install_log")"
  finish
fi

out=$(/usr/bin/routegraph --version 2>&1)
if [ "$out" = "routegraph $version" ]; then ok "routegraph --version: $out"
else not_ok "routegraph --version says routegraph $version" "got: $out"; fi

caps=$(getcap /usr/bin/routegraph 2>&1)
if [ "$caps" = "/usr/bin/routegraph cap_net_raw=ep" ]; then ok "postinst set the capability: $caps"
elif [ -z "$caps" ] && grep -q "could not set cap_net_raw+ep" "$install_log"; then
  # A filesystem without extended attributes: postinst must have said so.
  ok "no xattrs here: postinst said it could not set the capability"
else not_ok "postinst set cap_net_raw=ep" "getcap: $caps" "$(tail -n 5 "$install_log")"; fi

# Where the filesystem holds no extended attributes setcap fails: postinst
# must say what that means and still succeed (a setcap that fails so stands
# in for it; the real binary is not touched).
mkdir -p "$WORK/noxattr"
cat >"$WORK/noxattr/setcap" <<'SH'
#!/bin/sh
echo "Failed to set capabilities on file '$2' (Operation not supported)" >&2
exit 1
SH
chmod +x "$WORK/noxattr/setcap"
out=$(PATH="$WORK/noxattr:$PATH" sh "/var/lib/dpkg/info/$PKG.postinst" configure "$version" 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && grep -q "could not set cap_net_raw+ep on /usr/bin/routegraph.*will need root" <<<"$out"; then
  ok "postinst on a filesystem without xattrs: one clear message, exit 0"
else
  not_ok "postinst on a filesystem without xattrs: one clear message, exit 0" "exit $rc" "$out"
fi

check "man routegraph finds the installed page" \
  test "$(man -w routegraph 2>&1)" = /usr/share/man/man1/routegraph.1.gz
check "man 8 routegraph-fetch-asn-data finds the installed page" \
  test "$(man -w 8 routegraph-fetch-asn-data 2>&1)" = /usr/share/man/man8/routegraph-fetch-asn-data.8.gz

# bash-completion loads the installed file on demand, by the command's name.
spec=$(bash -c 'source /usr/share/bash-completion/bash_completion &&
  __load_completion routegraph && complete -p routegraph' 2>&1)
if [ "$spec" = "complete -F _routegraph routegraph" ]; then ok "bash-completion loads the installed completion"
else not_ok "bash-completion loads the installed completion" "got: $spec"; fi

# The installed fetcher compiles the index with the installed helper: a tiny
# package tarball shaped like @ip-location-db/asn, installed offline.
fake="$WORK/fake/package"
mkdir -p "$fake"
for i in $(seq 0 1099); do
  printf '10.%d.%d.0,10.%d.%d.255,%d,Org %d\n' $((i / 256)) $((i % 256)) $((i / 256)) $((i % 256)) $((64512 + i)) "$i"
done >"$fake/asn-ipv4.csv"
for i in $(seq 0 1099); do
  printf '2001:db8:%x::,2001:db8:%x:ffff:ffff:ffff:ffff:ffff,%d,Org %d\n' "$i" "$i" $((64512 + i)) "$i"
done >"$fake/asn-ipv6.csv"
printf '{\n  "name": "@ip-location-db/asn",\n  "version": "0.0.1"\n}\n' >"$fake/package.json"
tar -czf "$WORK/fake.tgz" -C "$WORK/fake" package
# Offline: where the fetcher also fetches other data, it is told not to.
fetch_args=(--tarball "$WORK/fake.tgz")
routegraph-fetch-asn-data --help | grep -q -- --no-country && fetch_args+=(--no-country)
fetch_out=$(routegraph-fetch-asn-data "${fetch_args[@]}" "$WORK/asn" 2>&1)
if [ -s "$WORK/asn/asn.rgidx" ] && grep -q "index $WORK/asn/asn.rgidx compiled" <<<"$fetch_out"; then
  ok "routegraph-fetch-asn-data installs offline data and compiles its index"
else
  not_ok "routegraph-fetch-asn-data installs offline data and compiles its index" "$fetch_out"
fi

purge_log="$WORK/purge.log"
if "${APT[@]}" purge "$PKG" >"$purge_log" 2>&1; then
  installed=0
  ok "apt-get purge $PKG"
else
  not_ok "apt-get purge $PKG" "$(tail -n 20 "$purge_log")"
fi
left=""
while IFS= read -r f; do
  [ -f "$f" ] || [ -L "$f" ] && left+=" $f"
done <<<"$contents"
status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" 2>/dev/null)
if [ -z "$left" ] && { [ -z "$status" ] || [ "${status:0:2}" = "un" ] || [ "${status:0:2}" = "pn" ]; }; then
  ok "after purge: no file of the package left, dpkg knows it no more"
else
  not_ok "after purge: no file of the package left" "left:$left" "dpkg status: $status"
fi

finish
