#!/usr/bin/env bash
# `make wheelhouse`: the offline install kit for an intranet server (docs/deploy.md).
#
# Run it on a machine that reaches the package registry, with the same OS family, CPU
# architecture and Python minor version as the server (e.g. Debian 12 and its python3 3.11).
# It builds:
#
#   dist/unionaid-<version>-<python tag>-<platform>.tar.gz        the kit
#   dist/unionaid-<version>-<python tag>-<platform>.tar.gz.sha256  its checksum
#
# The kit unpacks to one folder holding the project's wheel, a wheel of every production
# dependency at the version requirements.lock pins (the dev extras — pytest, ruff, playwright …
# — are left out: pip resolves only the project's own dependencies, constrained by the lock),
# requirements.txt (that production subset, name==version, sorted), install.sh (a venv
# installed with --no-index: no network on the server), the deploy/ files, docs/deploy.md and
# docs/backup.md.
#
# It fails when a production dependency is missing from requirements.lock (run `make lock`).
# PY=/usr/bin/python3.11 picks the Python; DIST=path the output folder.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-python3}
DIST=${DIST:-dist}
ROOT=$(pwd)

version=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
pytag=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
platform=$("$PY" -c 'import sysconfig; print(sysconfig.get_platform().replace("-", "_").replace(".", "_"))')
name="unionaid-${version}-${pytag}-${platform}"
build="$DIST/.build"
kit="$build/$name"

echo "== wheelhouse $name (Python $("$PY" -c 'import platform; print(platform.python_version())'))"
rm -rf "$build" && mkdir -p "$kit/wheels"
"$PY" -m venv "$build/venv"
pip=("$build/venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip

# Reproducible timestamps inside the project's wheel and the tarball: the last commit's time.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

echo "== the project's wheel"
[ -e build ] && had_build=1 || had_build=
"${pip[@]}" wheel -q --no-deps --wheel-dir "$kit/wheels" .
[ -n "$had_build" ] || rm -rf build  # setuptools' in-tree build folder
project_wheel=$(ls "$kit/wheels"/unionaid-*.whl)

echo "== production dependencies, pinned by requirements.lock"
"${pip[@]}" wheel -q --wheel-dir "$kit/wheels" --constraint requirements.lock "$project_wheel"

# Every wheel must be the version the lock pins: the requirements.txt below is the lock's
# production subset, and nothing reaches the server that the lock does not name.
"$build/venv/bin/python" - "$kit" "$ROOT/requirements.lock" <<'PYEOF'
import re
import sys
from pathlib import Path

kit, lock_path = Path(sys.argv[1]), Path(sys.argv[2])


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


lock = {}
for line in lock_path.read_text().splitlines():
    line = line.split("#")[0].strip()
    if "==" in line:
        pkg, ver = line.split("==", 1)
        lock[norm(pkg)] = ver.strip()
pins, missing = [], []
for wheel in sorted((kit / "wheels").glob("*.whl")):
    pkg, ver = wheel.name.split("-")[:2]
    if norm(pkg) == "unionaid":
        continue
    if lock.get(norm(pkg)) != ver:
        missing.append(f"{pkg}=={ver} (lock: {lock.get(norm(pkg), 'absent')})")
    pins.append(f"{norm(pkg)}=={ver}")
if missing:
    sys.exit("not pinned by requirements.lock: " + ", ".join(missing) + " - run `make lock`")
project = next((kit / "wheels").glob("unionaid-*.whl")).name.split("-")[1]
pins.append(f"unionaid=={project}")
(kit / "requirements.txt").write_text(
    "# unionaid's production packages, a subset of requirements.lock (make wheelhouse)\n"
    + "\n".join(sorted(pins)) + "\n")
print(f"   {len(pins)} packages, all pinned by requirements.lock")
PYEOF

cp -r deploy "$kit/deploy"
mkdir -p "$kit/docs" && cp docs/deploy.md docs/backup.md "$kit/docs/"
cat > "$kit/install.sh" <<'SHEOF'
#!/bin/sh
# Install unionaid from this folder into a virtual environment, without any network:
#   sh install.sh /opt/unionaid/venv        (docs/deploy.md, "Install the packages")
# An existing venv is upgraded in place (docs/deploy.md, "Upgrades").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:?usage: sh install.sh /path/to/venv}
PYTHON=${PYTHON:-python3}
[ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
# only this folder: no pip configuration, no index, no other wheel folder
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_REQUIREMENT 2>/dev/null || true
PIP_CONFIG_FILE=/dev/null "$venv/bin/python" -m pip install --no-index \
  --find-links "$here/wheels" --disable-pip-version-check --upgrade -r "$here/requirements.txt"
"$venv/bin/python" -c "import importlib.util as u, unionaid.cli; assert u.find_spec('config.settings')"
echo "unionaid installed in $venv: $("$venv/bin/python" -m pip show unionaid | sed -n 's/^Version: //p')"
SHEOF
chmod +x "$kit/install.sh"

echo "== tarball"
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
  -C "$build" -czf "$DIST/$name.tar.gz" "$name"
(cd "$DIST" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
rm -rf "$build"
echo "$DIST/$name.tar.gz ($(du -h "$DIST/$name.tar.gz" | cut -f1))"
cat "$DIST/$name.tar.gz.sha256"
