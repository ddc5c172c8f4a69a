#!/usr/bin/env bash
# The browser suite (make browser-test) drives Debian's chromium at /usr/bin/chromium. Install it
# (and a CJK font, so that pages are laid out with real glyph widths) with apt-get when missing.
# When it cannot be installed, say why and fail: the browser suite never skips.
set -euo pipefail
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PACKAGES=(chromium fonts-wqy-microhei)

if [ -x "$CHROMIUM" ]; then
  exit 0
fi
fail() {
  echo "browser-test: FAILED — $CHROMIUM is missing and could not be installed: $*" >&2
  echo "browser-test: install it by hand (apt-get install -y --no-install-recommends ${PACKAGES[*]})" \
       "or set CHROMIUM=/path/to/chromium, then run make browser-test again." >&2
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
echo "browser-test: $CHROMIUM is missing; installing ${PACKAGES[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq || fail "apt-get update failed (no network or no package mirror?)."
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" \
  || fail "apt-get install ${PACKAGES[*]} failed (see the messages above)."
[ -x "$CHROMIUM" ] || fail "apt-get succeeded but $CHROMIUM is still not there."
echo "browser-test: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed"
