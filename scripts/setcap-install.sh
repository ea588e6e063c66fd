#!/usr/bin/env bash
# meson install hook: give the installed binary CAP_NET_RAW as a file
# capability, so operators can run it without sudo (it drops the capability
# right after opening its raw sockets). Skipped with a note when packaging
# into a DESTDIR, or when setcap is missing or not permitted: the binary
# then works as root only.
# $1: meson's bindir, relative to the prefix unless absolute.
set -u
case "${1:-bin}" in
  /*) bin="${DESTDIR:-}$1/routegraph" ;;
  *) bin="${MESON_INSTALL_DESTDIR_PREFIX:?}/${1:-bin}/routegraph" ;;
esac
if [ -n "${DESTDIR:-}" ] && [ -z "${RG_SETCAP_IN_DESTDIR:-}" ]; then
  echo "routegraph: packaging into DESTDIR; run 'setcap cap_net_raw+ep $bin' on the target system"
  exit 0
fi
if ! command -v setcap >/dev/null 2>&1; then
  echo "routegraph: setcap not found (Debian: libcap2-bin); run as root or: setcap cap_net_raw+ep $bin"
  exit 0
fi
if setcap cap_net_raw+ep "$bin"; then
  echo "routegraph: $bin has cap_net_raw+ep"
else
  echo "routegraph: could not setcap $bin (not root?); run: sudo setcap cap_net_raw+ep $bin"
fi
exit 0
