#!/usr/bin/env bash
# Fetches the offline AS database routegraph uses by default: the npm package
# @ip-location-db/asn (CSV, CC BY 4.0: RouteViews, DB-IP and the NRO, merged
# by ip-location-db). npm only downloads it as data ("npm pack": no install,
# no scripts); nothing in it is executed. Then compiles routegraph's index
# (asn.rgidx) so startup maps it instead of parsing 33 MB of CSV.
#
#   scripts/fetch-asn-data.sh [--update] [--tarball FILE.tgz] [--compiler PROG] [DIR]
#   (installed as routegraph-fetch-asn-data)
#
#   DIR        default ${RG_DATA_DIR:-/usr/local/share/routegraph}/asn
#   --update   ask the registry for a newer version even when data is present
#   --tarball  install from an already downloaded package tarball (offline)
#   --compiler the program that compiles the index, run as "PROG --compile --dir DIR"
#              (default: bench_asdb from build/ or $RG_BUILD_DIR, else the
#              installed one)
#
# Idempotent: with the data present and the index up to date it only checks
# and exits. Exits non-zero with one clear message on failure.
set -euo pipefail

PKG=@ip-location-db/asn
FILES=(asn-ipv4.csv asn-ipv6.csv)
DOCS=(README.md package.json DBIP-LICENSE ROUTEVIEWS-LICENSE NRO_LICENSE MODIFICATIONS)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

update=0
tarball=""
compiler=""
dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --update) update=1 ;;
    --tarball) tarball=${2:?--tarball needs a file}; shift ;;
    --compiler) compiler=${2:?--compiler needs a program}; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    -*) echo "fetch-asn-data: unknown option $1" >&2; exit 2 ;;
    *) dir=$1 ;;
  esac
  shift
done
[ -n "$dir" ] || dir="${RG_DATA_DIR:-/usr/local/share/routegraph}/asn"

die() { echo "fetch-asn-data: $*" >&2; exit 1; }

have_data() {
  local f
  for f in "${FILES[@]}"; do [ -s "$dir/$f" ] || return 1; done
  [ -s "$dir/VERSION" ]
}

# meson install fills this in (routegraph-fetch-asn-data); in a checkout it
# keeps its placeholder, which names no program.
INSTALLED_COMPILER="@RG_INSTALLED_COMPILER@"

find_compiler() {
  [ -n "$compiler" ] && { echo "$compiler"; return; }
  local c
  for c in "${RG_BUILD_DIR:-}/bench_asdb" "$ROOT/build/bench_asdb" "$INSTALLED_COMPILER"; do
    [ -x "$c" ] && { echo "$c"; return; }
  done
}

compile_index() {
  local c
  c=$(find_compiler)
  if [ -z "$c" ]; then
    echo "fetch-asn-data: index not compiled (no bench_asdb built yet: ninja -C build, then rerun);"
    echo "  routegraph parses the CSVs instead (about 0.2-0.4 s at startup)"
    return 0
  fi
  # The program checks whether the index is current itself; compiling is
  # cheap enough (under a second) to simply redo when unsure.
  "$c" --compile --dir "$dir" >/dev/null || die "compiling the index with $c failed"
  echo "fetch-asn-data: index $dir/asn.rgidx compiled"
}

index_current() {
  # Newer than both CSVs: written by a compile after the last unpack.
  local f
  [ -s "$dir/asn.rgidx" ] || return 1
  for f in "${FILES[@]}"; do [ "$dir/asn.rgidx" -nt "$dir/$f" ] || return 1; done
}

if have_data && [ "$update" -eq 0 ] && [ -z "$tarball" ]; then
  echo "fetch-asn-data: $PKG $(head -n1 "$dir/VERSION") already in $dir"
  index_current || compile_index
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rg-asn.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -z "$tarball" ]; then
  command -v npm >/dev/null || die "npm not found (Debian: apt-get install npm); or pass --tarball FILE.tgz"
  latest=$(npm view "$PKG" version 2>"$work/npm.err") ||
    die "cannot reach the npm registry for $PKG: $(tail -n1 "$work/npm.err")"
  if have_data && [ "$(head -n1 "$dir/VERSION")" = "$latest" ]; then
    echo "fetch-asn-data: $PKG $latest already in $dir (newest)"
    index_current || compile_index
    exit 0
  fi
  echo "fetch-asn-data: downloading $PKG@$latest (about 19 MB)"
  (cd "$work" && npm pack --ignore-scripts --silent "$PKG@$latest" >npm.out 2>npm.err) ||
    die "npm pack $PKG@$latest failed: $(tail -n1 "$work/npm.err")"
  tarball="$work/$(tail -n1 "$work/npm.out")"
fi
[ -s "$tarball" ] || die "$tarball: no such package tarball"

mkdir -p "$work/x"
# --touch: each unpack gets fresh mtimes, which is how routegraph notices
# that its compiled index no longer matches the CSVs.
tar -xzf "$tarball" -C "$work/x" --no-same-owner --no-same-permissions --touch \
    --exclude='package/*-num.csv' 2>"$work/tar.err" ||
  die "$tarball: cannot unpack ($(grep -m1 . "$work/tar.err"))"
for f in "${FILES[@]}" package.json; do
  [ -f "$work/x/package/$f" ] || die "$tarball: no package/$f in it; not the expected package"
done

version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$work/x/package/package.json" | head -n1)
[ -n "$version" ] || die "$tarball: no version in package.json"
for f in "${FILES[@]}"; do
  p="$work/x/package/$f"
  lines=$(wc -l <"$p")
  [ "$lines" -gt 1000 ] || die "$f has only $lines lines; refusing to install it"
  head -n1 "$p" | grep -Eq '^[0-9a-fA-F:.]+,[0-9a-fA-F:.]+,[0-9]+,' ||
    die "$f does not look like range_start,range_end,asn,organisation"
done

mkdir -p "$dir" || die "cannot create $dir"
installed=()
for f in "${FILES[@]}" "${DOCS[@]}"; do
  [ -f "$work/x/package/$f" ] || continue # licence texts may be renamed upstream
  install -m 0644 "$work/x/package/$f" "$dir/.$f.new" || die "cannot write $dir"
  installed+=("$f")
done
for f in "${installed[@]}"; do mv -f "$dir/.$f.new" "$dir/$f"; done
cat >"$dir/VERSION.new" <<EOF
$version
$PKG, unpacked $(date -u +%Y-%m-%dT%H:%M:%SZ)
Data: CC BY 4.0 by RouteViews (routeviews.org), DB-IP (db-ip.com) and the NRO
(nro.net), merged by ip-location-db (github.com/sapics/ip-location-db);
see the LICENSE files and MODIFICATIONS beside this file.
EOF
mv -f "$dir/VERSION.new" "$dir/VERSION"
rm -f "$dir/asn.rgidx"
echo "fetch-asn-data: installed $PKG $version in $dir"
compile_index
