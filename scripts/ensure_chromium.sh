#!/usr/bin/env bash
# The browser suite (make browser-test) drives Debian's chromium at /usr/bin/chromium. Install it
# (and a CJK font, so that pages are laid out with real glyph widths) with apt-get when missing.
# When it cannot be installed, say why and fail: the browser suite never skips.
# CHROMIUM=/path/to/chromium uses another one.
set -euo pipefail
exec "$(dirname "$0")/apt_install.sh" browser-test "${CHROMIUM:-/usr/bin/chromium}" \
  chromium fonts-wqy-microhei
