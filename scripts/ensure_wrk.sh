#!/usr/bin/env bash
# The serve benchmark (benchmarks/helpers/serve.py) drives the server with wrk. Install Debian's
# wrk with apt-get when it is missing; when it cannot be installed, say why and fail.
set -euo pipefail
PACKAGES=(wrk)

if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
fail() {
  echo "bench: FAILED — wrk is missing and could not be installed: $*" >&2
  echo "bench: install it by hand (apt-get install -y --no-install-recommends ${PACKAGES[*]})," \
       "then run make bench again." >&2
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
echo "bench: wrk is missing; installing ${PACKAGES[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq || fail "apt-get update failed (no network or no package mirror?)."
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" \
  || fail "apt-get install ${PACKAGES[*]} failed (see the messages above)."
command -v wrk >/dev/null 2>&1 || fail "apt-get succeeded but wrk is still not on PATH."
echo "bench: $(wrk --version 2>&1 | head -1) installed"
