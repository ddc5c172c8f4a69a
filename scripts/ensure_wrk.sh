#!/usr/bin/env bash
# The serve benchmark (benchmarks/helpers/serve.py) drives the server with wrk. Install Debian's
# wrk with apt-get when it is missing; when it cannot be installed, say why and fail.
set -euo pipefail
exec "$(dirname "$0")/apt_install.sh" bench wrk wrk
