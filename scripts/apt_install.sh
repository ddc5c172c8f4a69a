#!/usr/bin/env bash
# apt_install.sh WHO PROGRAM PACKAGE... — make sure PROGRAM (a path, or a name on PATH) is there,
# installing PACKAGEs with apt-get when it is missing; when that cannot be done, say why (prefixed
# with WHO, e.g. "browser-test") and fail. Shared by ensure_chromium.sh and ensure_wrk.sh.
set -euo pipefail
WHO="$1"; PROGRAM="$2"; shift 2
PACKAGES=("$@")

present() { if [[ "$PROGRAM" == */* ]]; then [ -x "$PROGRAM" ]; else command -v "$PROGRAM" >/dev/null 2>&1; fi; }
present && exit 0
fail() {
  echo "$WHO: FAILED — $PROGRAM is missing and could not be installed: $*" >&2
  echo "$WHO: install it by hand (apt-get install -y --no-install-recommends ${PACKAGES[*]})," \
       "then run it again." >&2
  exit 1
}
command -v apt-get >/dev/null 2>&1 || fail "this machine has no apt-get (not Debian/Ubuntu)."
if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  fail "installing packages needs root (or password-less sudo), and this user has neither."
fi
echo "$WHO: $PROGRAM is missing; installing ${PACKAGES[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq || fail "apt-get update failed (no network or no package mirror?)."
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" \
  || fail "apt-get install ${PACKAGES[*]} failed (see the messages above)."
present || fail "apt-get succeeded but $PROGRAM is still not there."
echo "$WHO: $PROGRAM installed"
