#!/usr/bin/env bash
# Fetches the offline data routegraph uses by default, two npm packages
# that npm only downloads as data ("npm pack": no install, no scripts;
# nothing in them is executed):
#   @ip-location-db/asn                    IP -> AS (CSV, CC BY 4.0: RouteViews,
#                                          DB-IP and the NRO, merged by ip-location-db)
#   @ip-location-db/geo-whois-asn-country  IP -> country (CSV; its package.json
#                                          says CC0-1.0, its README and NRO_LICENSE
#                                          CC BY 4.0 by the NRO: credited as such)
# Then compiles routegraph's indexes (asn.rgidx, country.rgidx) so startup
# maps them instead of parsing about 55 MB of CSV.
#
#   scripts/fetch-asn-data.sh [--update] [--tarball FILE.tgz] [--country-tarball FILE.tgz]
#                             [--no-country] [--country-dir DIR] [--compiler PROG] [DIR]
#   (installed as routegraph-fetch-asn-data)
#
#   DIR        AS data, default ${RG_DATA_DIR:-/usr/local/share/routegraph}/asn
#   --country-dir  country data, default: "country" beside DIR
#   --update   ask the registry for newer versions even when data is present
#   --tarball  install the AS data from an already downloaded package (offline)
#   --country-tarball  the same for the country data
#   --no-country  leave the country data alone
#   --compiler the program that compiles the indexes, run as
#              "PROG --compile --dir DIR" (AS) and "PROG --compile --country --dir DIR"
#              (default: bench_asdb from build/ or $RG_BUILD_DIR, else the
#              installed one)
#
# Idempotent: with the data present and the indexes up to date it only
# checks and exits. Exits non-zero with one clear message on failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

update=0
tarball=""
country_tarball=""
country=1
country_dir=""
compiler=""
dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --update) update=1 ;;
    --tarball) tarball=${2:?--tarball needs a file}; shift ;;
    --country-tarball) country_tarball=${2:?--country-tarball needs a file}; shift ;;
    --no-country) country=0 ;;
    --country-dir) country_dir=${2:?--country-dir needs a directory}; shift ;;
    --compiler) compiler=${2:?--compiler needs a program}; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    -*) echo "fetch-asn-data: unknown option $1" >&2; exit 2 ;;
    *) dir=$1 ;;
  esac
  shift
done
[ -n "$dir" ] || dir="${RG_DATA_DIR:-/usr/local/share/routegraph}/asn"
[ -n "$country_dir" ] || country_dir="$(dirname "$dir")/country"

die() { echo "fetch-asn-data: $*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rg-data.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One package's description; set by use_asn / use_country.
PKG="" DEST="" TGZ="" INDEX="" KINDARG="" SIZE="" LINE_RE="" LINE_WHAT="" CREDIT=""
FILES=() DOCS=()

use_asn() {
  PKG=@ip-location-db/asn DEST=$dir TGZ=$tarball INDEX=asn.rgidx KINDARG="" SIZE="about 19 MB"
  FILES=(asn-ipv4.csv asn-ipv6.csv)
  DOCS=(README.md package.json DBIP-LICENSE ROUTEVIEWS-LICENSE NRO_LICENSE MODIFICATIONS)
  LINE_RE='^[0-9a-fA-F:.]+,[0-9a-fA-F:.]+,[0-9]+,'
  LINE_WHAT="range_start,range_end,asn,organisation"
  CREDIT="Data: CC BY 4.0 by RouteViews (routeviews.org), DB-IP (db-ip.com) and the NRO
(nro.net), merged by ip-location-db (github.com/sapics/ip-location-db);
see the LICENSE files and MODIFICATIONS beside this file."
}

use_country() {
  PKG=@ip-location-db/geo-whois-asn-country DEST=$country_dir TGZ=$country_tarball
  INDEX=country.rgidx KINDARG=--country SIZE="about 11 MB"
  FILES=(geo-whois-asn-country-ipv4.csv geo-whois-asn-country-ipv6.csv)
  DOCS=(README.md package.json NRO_LICENSE)
  LINE_RE='^[0-9a-fA-F:.]+,[0-9a-fA-F:.]+,[A-Za-z]{2}$'
  LINE_WHAT="range_start,range_end,country_code"
  CREDIT="Data: GeoFeed, RIR whois and RIR delegation data merged by ip-location-db
(github.com/sapics/ip-location-db). package.json says CC0-1.0; its README and
NRO_LICENSE say CC BY 4.0 by the NRO (nro.net), which routegraph credits."
}

have_data() {
  local f
  for f in "${FILES[@]}"; do [ -s "$DEST/$f" ] || return 1; done
  [ -s "$DEST/VERSION" ]
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
    echo "fetch-asn-data: $INDEX not compiled (no bench_asdb built yet: ninja -C build, then rerun);"
    echo "  routegraph parses the CSVs instead (about 0.2-0.4 s at startup)"
    return 0
  fi
  # The program checks whether the index is current itself; compiling is
  # cheap enough (under a second) to simply redo when unsure.
  # shellcheck disable=SC2086 # KINDARG is empty or one word
  "$c" --compile $KINDARG --dir "$DEST" >/dev/null || die "compiling $INDEX with $c failed"
  echo "fetch-asn-data: index $DEST/$INDEX compiled"
}

index_current() {
  # Newer than both CSVs: written by a compile after the last unpack.
  local f
  [ -s "$DEST/$INDEX" ] || return 1
  for f in "${FILES[@]}"; do [ "$DEST/$INDEX" -nt "$DEST/$f" ] || return 1; done
}

# Downloads the newest version into $work unless it is installed already;
# prints the tarball's path, or nothing when there is nothing to do.
download() {
  local latest
  command -v npm >/dev/null || die "npm not found (Debian: apt-get install npm); or pass a tarball"
  latest=$(npm view "$PKG" version 2>"$work/npm.err") ||
    die "cannot reach the npm registry for $PKG: $(tail -n1 "$work/npm.err")"
  if have_data && [ "$(head -n1 "$DEST/VERSION")" = "$latest" ]; then
    echo "fetch-asn-data: $PKG $latest already in $DEST (newest)" >&2
    return 0
  fi
  echo "fetch-asn-data: downloading $PKG@$latest ($SIZE)" >&2
  (cd "$work" && npm pack --ignore-scripts --silent "$PKG@$latest" >npm.out 2>npm.err) ||
    die "npm pack $PKG@$latest failed: $(tail -n1 "$work/npm.err")"
  echo "$work/$(tail -n1 "$work/npm.out")"
}

unpack_and_install() {
  local tgz=$1 x="$work/x-${INDEX%.rgidx}" f p lines version
  [ -s "$tgz" ] || die "$tgz: no such package tarball"
  mkdir -p "$x"
  # --touch: each unpack gets fresh mtimes, which is how routegraph notices
  # that its compiled index no longer matches the CSVs.
  tar -xzf "$tgz" -C "$x" --no-same-owner --no-same-permissions --touch \
      --exclude='package/*-num.csv' 2>"$work/tar.err" ||
    die "$tgz: cannot unpack ($(grep -m1 . "$work/tar.err"))"
  for f in "${FILES[@]}" package.json; do
    [ -f "$x/package/$f" ] || die "$tgz: no package/$f in it; not the expected package ($PKG)"
  done
  version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$x/package/package.json" | head -n1)
  [ -n "$version" ] || die "$tgz: no version in package.json"
  for f in "${FILES[@]}"; do
    p="$x/package/$f"
    lines=$(wc -l <"$p")
    [ "$lines" -gt 1000 ] || die "$f has only $lines lines; refusing to install it"
    head -n1 "$p" | grep -Eq "$LINE_RE" || die "$f does not look like $LINE_WHAT"
  done
  mkdir -p "$DEST" || die "cannot create $DEST"
  local installed=()
  for f in "${FILES[@]}" "${DOCS[@]}"; do
    [ -f "$x/package/$f" ] || continue # licence texts may be renamed upstream
    install -m 0644 "$x/package/$f" "$DEST/.$f.new" || die "cannot write $DEST"
    installed+=("$f")
  done
  for f in "${installed[@]}"; do mv -f "$DEST/.$f.new" "$DEST/$f"; done
  printf '%s\n%s, unpacked %s\n%s\n' "$version" "$PKG" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$CREDIT" >"$DEST/VERSION.new"
  mv -f "$DEST/VERSION.new" "$DEST/VERSION"
  rm -f "$DEST/$INDEX"
  echo "fetch-asn-data: installed $PKG $version in $DEST"
}

fetch_one() {
  local tgz=$TGZ
  if have_data && [ "$update" -eq 0 ] && [ -z "$tgz" ]; then
    echo "fetch-asn-data: $PKG $(head -n1 "$DEST/VERSION") already in $DEST"
    index_current || compile_index
    return 0
  fi
  [ -n "$tgz" ] || tgz=$(download)
  if [ -z "$tgz" ]; then
    index_current || compile_index
    return 0
  fi
  unpack_and_install "$tgz"
  compile_index
}

use_asn
fetch_one
if [ "$country" -eq 1 ]; then
  use_country
  fetch_one
fi
