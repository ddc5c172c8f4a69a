#!/usr/bin/env bash
# Re-vendor the front-end assets from the npm registry into src/unionaid/static/vendor.
set -euo pipefail
dest="$(cd "$(dirname "$0")/.." && pwd)/src/unionaid/static/vendor"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack bootstrap@5.3.9 htmx.org@2.0.11 echarts@5.6.0 bootstrap-icons@1.13.2 >/dev/null
for f in *.tgz; do mkdir -p "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done
cp bootstrap-5.3.9/package/dist/css/bootstrap.min.css bootstrap-5.3.9/package/dist/js/bootstrap.bundle.min.js "$dest/bootstrap/"
cp htmx.org-2.0.11/package/dist/htmx.min.js "$dest/htmx/"
cp echarts-5.6.0/package/dist/echarts.min.js "$dest/echarts/"
cp bootstrap-icons-1.13.2/package/font/bootstrap-icons.min.css "$dest/bootstrap-icons/"
cp bootstrap-icons-1.13.2/package/font/fonts/* "$dest/bootstrap-icons/fonts/"
